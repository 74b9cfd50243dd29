"""PostgreSQL access: SQLAlchemy 2 async engines on asyncpg, per-service schemas, migrations.

Each service owns one schema (``gateway``, ``auth``, ``notifier`` …) and its
own ordered SQL migrations, shipped as ``NNNN_name.sql`` files in a package.
Migrations run at start under an advisory lock, so replicas starting together
apply each file once.

Every session gets a ``statement_timeout`` (``PHOENIX_DB_STATEMENT_TIMEOUT``):
no request, however odd its parameters, may hold a pooled connection or fill
the disk with temporary files for longer than that.
"""

from __future__ import annotations

import zlib
from importlib import resources

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from phoenix_platform.logging import get_logger

log = get_logger(__name__)


def async_url(url: str) -> str:
    """``postgresql://`` (what users write) → the asyncpg dialect SQLAlchemy needs."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("database URL must start with postgresql://")


DEFAULT_STATEMENT_TIMEOUT = 30.0
# A transaction left open while its holder waits on something else keeps locks
# and a connection; allow it more than a statement, but not forever.
MIN_IDLE_IN_TRANSACTION = 60.0


def create_engine(
    url: str,
    schema: str,
    *,
    pool_size: int = 5,
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
) -> AsyncEngine:
    """An engine whose sessions use ``schema``; ``statement_timeout`` in seconds (0: none,
    for operator commands such as a projection rebuild)."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        # Errors carry their SQL but not its values: a parked event's error goes to
        # logs and dead-letter headers, and values may be password hashes or sealed secrets.
        hide_parameters=True,
        connect_args={
            "server_settings": {
                "search_path": schema,
                "application_name": schema,
                **session_timeouts(statement_timeout),
            }
        },
    )


def session_timeouts(statement_timeout: float) -> dict[str, str]:
    """The server settings (in milliseconds) bounding one session's statements."""
    if statement_timeout <= 0:
        return {}
    idle = max(2 * statement_timeout, MIN_IDLE_IN_TRANSACTION)
    return {
        "statement_timeout": str(round(statement_timeout * 1000)),
        "idle_in_transaction_session_timeout": str(round(idle * 1000)),
    }


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
    except Exception:
        return False
    return True


async def migrate(engine: AsyncEngine, schema: str, package: str) -> list[str]:
    """Apply the ``*.sql`` files of ``package`` not yet applied to ``schema``, in name order."""
    files = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in resources.files(package).iterdir()
        if entry.name.endswith(".sql")
    )
    applied_now: list[str] = []
    async with engine.begin() as conn:
        # A migration may rewrite a big table, and a replica may wait here while
        # another migrates: neither is a runaway query.
        await conn.execute(text("set local statement_timeout = 0"))
        await conn.execute(text("select pg_advisory_xact_lock(:key)"), {"key": _lock_key(schema)})
        await conn.execute(text(f"create schema if not exists {_quoted(schema)}"))
        await conn.execute(
            text(
                f"create table if not exists {_quoted(schema)}.schema_migrations "
                "(name text primary key, applied_at timestamptz not null default now())"
            )
        )
        done = set(
            (
                await conn.execute(text(f"select name from {_quoted(schema)}.schema_migrations"))
            ).scalars()
        )
        for name, sql in files:
            if name in done:
                continue
            await _execute_script(conn, schema, sql)
            await conn.execute(
                text(f"insert into {_quoted(schema)}.schema_migrations (name) values (:n)"),
                {"n": name},
            )
            applied_now.append(name)
    if applied_now:
        log.info("database.migrated", schema=schema, applied=applied_now)
    return applied_now


async def _execute_script(conn: AsyncConnection, schema: str, sql: str) -> None:
    # Migration files hold several statements; only the simple-query protocol
    # (asyncpg's argument-less execute) runs them in one call.
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute(f"set local search_path to {_quoted(schema)}; {sql}")


def _quoted(schema: str) -> str:
    # Schema names come from our own code, never from users; still refuse
    # anything that is not a plain identifier before it meets SQL.
    if not schema.replace("_", "").isalnum():
        raise ValueError(f"invalid schema name {schema!r}")
    return f'"{schema}"'


def _lock_key(schema: str) -> int:
    return zlib.crc32(f"phoenix-migrate:{schema}".encode())
