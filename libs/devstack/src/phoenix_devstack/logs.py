"""Server log files under `<data>/logs/`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

# Logs are appended across restarts (history helps after a crash) but rotated once, so a
# long-lived dev checkout does not accumulate an unbounded file.
_ROTATE_BYTES = 10 * 1024 * 1024
_TAIL_BYTES = 16 * 1024
_MARKER = "===== phoenix-devstack:"


def open_log(path: Path) -> BinaryIO:
    """Open a log file for a child's stdout/stderr; the parent must close its copy after spawn."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.stat().st_size > _ROTATE_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass
    return path.open("ab", buffering=0)


def tail(path: Path, lines: int = 40) -> str:
    """Last `lines` lines of a log file, or a note when there is none."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read()
    except OSError as exc:
        return f"<log unavailable: {exc}>"
    text = data.decode("utf-8", errors="replace")
    # Only the current attempt matters to whoever reads an error; older runs are noise.
    start = text.rfind(_MARKER)
    if start >= 0:
        text = text[start:]
    return "\n".join(text.splitlines()[-lines:]) or "<log is empty>"


def mark(path: Path, message: str) -> None:
    """Append a separator so each start attempt is easy to find in an appended log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{_MARKER} {message} =====\n")
