"""Where a stack's PGDATA lives, and creating it with initdb."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
from contextlib import suppress
from pathlib import Path

import psutil

from .errors import DevStackError
from .users import RunAs, can_access

_log = logging.getLogger(__name__)

# Under root, PostgreSQL runs as an unprivileged user that may be unable to reach the data dir
# (e.g. /root/project/.phoenix, or pytest's mode-700 tmp dirs). Rather than loosening the
# permissions of the user's folders, such clusters live here, reachable through the symlink
# <data>/postgres so they still look like part of the data dir.
RELOCATION_ROOT = Path("/var/lib/phoenix-devstack/postgres")
_LINK_NAME = "postgres"
# Relocated clusters whose data dir was deleted are garbage; the age guard keeps us from
# collecting one that another process is creating right now.
_GC_MIN_AGE_S = 600.0


def cluster_path(data_dir: Path, user: RunAs | None) -> Path:
    """The PGDATA directory for `data_dir` (it may not exist yet)."""
    link = data_dir / _LINK_NAME
    if link.is_symlink():
        target = (link.parent / os.readlink(link)).absolute()
        if target.parent.parent == RELOCATION_ROOT:
            _make_home(target.parent, data_dir)
        return target
    if user is None or link.exists() or can_access(user, traversable=(data_dir,)):
        return link
    return _relocate(data_dir, link)


def postmaster_alive(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
        return bool(psutil.Process(pid).name() == "postgres")
    except (OSError, ValueError, psutil.Error):
        return False


def _relocate(data_dir: Path, link: Path) -> Path:
    collect_garbage()
    owner = str(data_dir.resolve())
    home = RELOCATION_ROOT / hashlib.sha256(owner.encode()).hexdigest()[:16]
    if home.exists():
        # No symlink yet at this path means the data dir was deleted and recreated: the old
        # cluster belongs to that deleted dir, and reusing it would resurrect stale data.
        if postmaster_alive(home / "data"):
            raise DevStackError(f"a PostgreSQL from a deleted data dir still runs in {home}")
        shutil.rmtree(home)
    _make_home(home, data_dir)
    link.symlink_to(home / "data")
    _log.warning(
        "%s is not reachable by the PostgreSQL user; keeping PGDATA in %s (linked as %s)",
        data_dir,
        home / "data",
        link,
    )
    return home / "data"


def _make_home(home: Path, data_dir: Path) -> None:
    for directory in (RELOCATION_ROOT.parent, RELOCATION_ROOT, home):
        try:
            directory.mkdir(mode=0o755)
            directory.chmod(0o755)  # our own new dir: undo a restrictive umask
        except FileExistsError:
            pass
    owner_file = home / "owner"
    if not owner_file.exists():
        owner_file.write_text(str(data_dir.resolve()) + "\n")


def collect_garbage() -> None:
    """Delete relocated clusters whose data dir no longer exists (or no longer links to them)."""
    if not RELOCATION_ROOT.is_dir():
        return
    for home in RELOCATION_ROOT.iterdir():
        with suppress(OSError):
            if _is_orphaned(home):
                _log.info("removing PostgreSQL cluster %s of a deleted data dir", home)
                shutil.rmtree(home)


def _is_orphaned(home: Path) -> bool:
    if time.time() - home.stat().st_mtime < _GC_MIN_AGE_S:
        return False
    link = Path((home / "owner").read_text().strip()) / _LINK_NAME
    if link.is_symlink() and link.resolve() == (home / "data").resolve():
        return False
    return not postmaster_alive(home / "data")
