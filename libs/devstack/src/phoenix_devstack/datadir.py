"""Exclusive ownership of a data directory by one running stack."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import TextIO

from .errors import DataDirLockedError


class DataDirLock:
    """flock() on <data>/devstack.lock, held while the stack runs.

    Two stacks on one data dir would corrupt each other's stores, and the crash recovery in
    start() (stopping leftover servers) would shoot the other stack's live servers. flock
    conflicts even within one process and is released by the kernel if we die.
    """

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "devstack.lock"
        self._handle: TextIO | None = None

    def acquire(self) -> None:
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirLockedError(
                f"{self.path.parent} is in use by another running stack (pid {holder})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()
