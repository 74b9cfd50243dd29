"""``phoenix projections``: list, rebuild (swap in atomically) or verify a read model.

Needs ``PHOENIX_NATS_URL``, ``PHOENIX_DATABASE_URL`` and ``PHOENIX_NAMESPACE``
(the same as the services). Services declare their projections through the
``phoenix.projections`` entry points; only those without side effects are.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import nats
from phoenix_contracts.subjects import Subjects
from phoenix_platform.logging import configure
from phoenix_platform.rebuild import ProjectionSpec, rebuild
from phoenix_platform.settings import BaseSettings, SettingsError, load


def available() -> dict[str, ProjectionSpec]:
    found = {}
    for entry in entry_points(group="phoenix.projections"):
        spec = entry.load()
        if isinstance(spec, ProjectionSpec):
            found[entry.name] = spec
    return found


def add_parser(sub: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    parser = sub.add_parser("projections", help="rebuild or verify a read model from the log")
    parser.set_defaults(func=handler)
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("list", help="the projections that can be rebuilt")
    for verb, text in (
        ("rebuild", "replay the log into a shadow copy and swap it in atomically"),
        ("verify", "replay the log into a shadow copy and compare it row by row"),
    ):
        command = verbs.add_parser(verb, help=text)
        command.add_argument("name", help="see `phoenix projections list`")


class Progress:
    """One line on stderr: events applied, rate, ETA."""

    def __init__(self, stream: Any = sys.stderr) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._shown = 0.0

    def __call__(self, at: int, total: int) -> None:
        now = time.monotonic()
        if now - self._shown < 0.2 and at < total:
            return
        self._shown = now
        elapsed = max(now - self._started, 1e-6)
        rate = at / elapsed
        eta = (total - at) / rate if rate else 0.0
        width = 30
        done = int(width * at / total) if total else width
        self._stream.write(
            f"\r[{'#' * done}{'.' * (width - done)}] {at}/{total} events"
            f"  {rate:,.0f}/s  ETA {eta:,.0f} s "
        )
        self._stream.flush()

    def finish(self) -> None:
        self._stream.write("\n")


def run(args: argparse.Namespace) -> int:
    specs = available()
    if args.verb == "list":
        for name, listed in sorted(specs.items()):
            print(f"{name}\tschema {listed.schema}\ttables {', '.join(listed.tables)}")
        return 0
    spec = specs.get(args.name)
    if spec is None:
        known = ", ".join(sorted(specs)) or "none installed"
        print(f"phoenix: unknown projection {args.name!r} (known: {known})", file=sys.stderr)
        return 2
    try:
        settings = load(BaseSettings)
    except SettingsError as exc:
        print(f"phoenix: {exc}", file=sys.stderr)
        return 2
    configure("phoenix-projections", fmt="console", level="warning")  # stdout is the report
    return asyncio.run(_run(args.verb, spec, settings))


async def _run(verb: str, spec: ProjectionSpec, settings: BaseSettings) -> int:
    try:
        nc = await nats.connect(
            settings.nats_url.split(","), connect_timeout=5, max_reconnect_attempts=1
        )
    except (OSError, nats.errors.Error) as exc:
        print(f"phoenix: cannot reach NATS at the configured URL: {exc}", file=sys.stderr)
        return 1
    progress = Progress()
    try:
        outcome = await rebuild(
            spec,
            settings.database_url,
            nc.jetstream(),
            Subjects(settings.namespace),
            swap=verb == "rebuild",
            progress=progress,
        )
    finally:
        progress.finish()
        await nc.close()
    if verb == "rebuild":
        print(f"rebuilt {spec.name} up to event {outcome.position} and swapped it in")
        return 0
    for table, (live_only, fresh_only) in outcome.differences.items():
        if live_only == fresh_only == 0:
            print(f"{table}\tequal")
        else:
            print(f"{table}\t{live_only} live rows not in a fresh rebuild, {fresh_only} missing")
    print(f"{spec.name}: {'equal to' if outcome.equal else 'DIFFERENT from'} a fresh rebuild")
    return 0 if outcome.equal else 3
