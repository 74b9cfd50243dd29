"""When checks are due: pure arithmetic, no clock of its own.

Each monitor fires at ``phase + k * interval`` (epoch seconds), with a phase
derived from its id. Slots are computed from the epoch rather than by adding
the interval to the last run, so there is no drift over hours, and spreading
phases keeps 10,000 monitors from firing in the same second.
"""

from __future__ import annotations

import hashlib
import math


def phase_of(monitor_id: str, interval: float) -> float:
    digest = int.from_bytes(hashlib.blake2b(monitor_id.encode(), digest_size=8).digest(), "big")
    return (digest % int(interval * 1000)) / 1000.0


def next_slot(after: float, interval: float, phase: float) -> float:
    """The first slot strictly later than ``after``."""
    k = math.floor((after - phase) / interval) + 1
    slot = k * interval + phase
    while slot <= after:  # float division can round a slot's own index down
        k += 1
        slot = k * interval + phase
    return slot


def catch_up(due: float, now: float, interval: float, phase: float) -> float:
    """The slot to run next after ``due`` was served at ``now``.

    Always a slot of the monitor's grid: an off-grid run (the immediate check
    of a new monitor) returns to the grid, keeping phases spread and job ids
    equal across scheduler replicas. After a stall (GC pause, downtime) missed
    slots are skipped, never replayed in a burst: the next slot is in the future.
    """
    return next_slot(max(due, now), interval, phase)
