"""Which OS user runs PostgreSQL, and what that user can reach on disk."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import DevStackError

# PostgreSQL refuses to run as root, so under root we need some unprivileged account.
# A dedicated system user keeps the cluster's files private to it; `nobody` is shared by
# unrelated daemons (and NFS squashing), so it is only the fallback for systems where
# `useradd` is missing or /etc/passwd is read-only.
SERVICE_USER = "phoenix"
FALLBACK_USER = "nobody"
_SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"


@dataclass(frozen=True)
class RunAs:
    name: str
    uid: int
    gid: int


def postgres_user() -> RunAs | None:
    """None means "run as ourselves"; only root has to switch users."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    return _system_user()


@cache
def _system_user() -> RunAs:
    for name in (SERVICE_USER, FALLBACK_USER):
        user = _lookup(name) or (_create(name) if name == SERVICE_USER else None)
        if user is not None and user.uid != 0:
            return user
    raise DevStackError(
        f"running as root, but neither a {SERVICE_USER!r} user could be created nor "
        f"{FALLBACK_USER!r} found to run PostgreSQL (initdb/postgres refuse to run as root)"
    )


def _lookup(name: str) -> RunAs | None:
    import pwd

    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return RunAs(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


def _create(name: str) -> RunAs | None:
    useradd = shutil.which("useradd", path=f"{os.environ.get('PATH', '')}:{_SBIN_PATH}")
    if useradd is None:
        return None
    options = ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent"]
    subprocess.run(
        [useradd, *options, "--shell", "/usr/sbin/nologin", name],
        check=False,
        capture_output=True,
    )
    # Looked up again rather than trusting the exit code: a concurrent start may have won the race.
    return _lookup(name)


def can_access(
    user: RunAs,
    *,
    executables: tuple[Path, ...] = (),
    readable: tuple[Path, ...] = (),
    traversable: tuple[Path, ...] = (),
) -> bool:
    """Ask the kernel, as `user`, whether it may use these paths.

    A real access check (a `test` run under the user's ids) honours ACLs, mount options and every
    parent directory, which re-implementing permission bits in Python would not.
    """
    checks = [("-x", p) for p in (*executables, *traversable)] + [("-r", p) for p in readable]
    script = " && ".join(f'test {flag} "${{{index}}}"' for index, (flag, _) in enumerate(checks, 1))
    result = subprocess.run(
        ["/bin/sh", "-c", script or "true", "sh", *(str(path) for _, path in checks)],
        user=user.uid,
        group=user.gid,
        extra_groups=[],
        cwd="/",
        check=False,
        capture_output=True,
    )
    return result.returncode == 0
