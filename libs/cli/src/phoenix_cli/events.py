"""``phoenix events``: the event log as a tool — tail, show, export, import, stats.

Reads the ``<NS>_EVENTS`` stream of ``PHOENIX_NAMESPACE`` on ``PHOENIX_NATS_URL``
directly (no service needs to run). Output is JSON Lines, one event a line::

    {"sequence": 42, "subject": "phx.evt.monitor.<id>", "type": "monitor.created",
     "time": "<when the log stored it>", "event": {...the event...}}

``export`` writes exactly these lines; ``import`` reads them back into an
*empty* log (a migration, a test fixture), keeping their order, so
export → import → rebuild gives the same read models.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import msgspec
import nats
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.settings import BaseSettings, SettingsError, load


class Line(msgspec.Struct, kw_only=True):
    sequence: int
    subject: str
    type: str
    time: datetime
    event: dict[str, Any]


@dataclass(frozen=True)
class Filter:
    types: frozenset[str] = frozenset()
    aggregate_id: str = ""
    organization_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    first: int = 1
    last: int = 0  # 0: up to the end

    def keeps(self, line: Line) -> bool:
        if self.types and line.type not in self.types:
            return False
        if self.aggregate_id and line.event.get("aggregate_id") != self.aggregate_id:
            return False
        if self.organization_id and line.event.get("organization_id") != self.organization_id:
            return False
        if self.since and line.time < self.since:
            return False
        if self.until and line.time >= self.until:
            return False
        return not (self.last and line.sequence > self.last)


_decode = msgspec.json.Decoder(dict[str, Any])


async def read(
    js: JetStreamContext,
    stream: str,
    subject: str,
    where: Filter,
    *,
    follow: bool,
) -> AsyncIterator[Line]:
    """The log's entries on ``subject`` in order; with ``follow``, new ones as they come."""
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return
    end = int(info.state.last_seq)
    if not follow and (end == 0 or (where.first > end)):
        return
    # Time ranges are filtered here, on the time the log stored each event: one
    # ordered pass, the same on every server version.
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(where.first, 1)
    )
    sub = await js.subscribe(subject, stream=stream, ordered_consumer=True, config=config)
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5 if not follow else 30)
            except TimeoutError:
                if follow:
                    continue
                return  # nothing more on this subject
            meta = msg.metadata
            body = _decode.decode(msg.data)
            line = Line(
                sequence=meta.sequence.stream,
                subject=msg.subject,
                type=str(body.get("type", "")),
                time=meta.timestamp,
                event=body,
            )
            if where.last and line.sequence > where.last and not follow:
                return
            if where.keeps(line):
                yield line
            if not follow and (line.sequence >= end or meta.num_pending == 0):
                return
    finally:
        await sub.unsubscribe()


_encoder = msgspec.json.Encoder()


def write(out: IO[str], line: Line) -> None:
    out.write(_encoder.encode(line).decode() + "\n")
    out.flush()


def retarget(subject: str, subjects: Subjects) -> str:
    """An exported subject in this namespace: an export may come from another one."""
    _, marker, rest = subject.partition(".evt.")
    if not marker:
        raise ValueError(f"{subject!r} is not an event subject")
    return f"{subjects.namespace}.evt.{rest}"


async def import_lines(
    js: JetStreamContext, subjects: Subjects, stream: str, lines: list[Line]
) -> int:
    """Append ``lines`` in order to an empty log; the number appended."""
    info = await js.stream_info(stream)
    if info.state.messages:
        raise ValueError(
            f"the log {stream} already holds {info.state.messages} events: import only into"
            " an empty log (a fresh namespace)"
        )
    ordered = sorted(lines, key=lambda item: item.sequence)
    targets = [retarget(line.subject, subjects) for line in ordered]  # all checked before writing
    for line, subject in zip(ordered, targets, strict=True):
        event_id = str(line.event.get("event_id", ""))
        await js.publish(subject, _encoder.encode(line.event), headers={"Nats-Msg-Id": event_id})
    return len(lines)


def parse_lines(source: IO[str]) -> list[Line]:
    lines = []
    for number, text in enumerate(source, start=1):
        if not text.strip():
            continue
        try:
            lines.append(msgspec.json.decode(text, type=Line))
        except msgspec.MsgspecError as exc:
            raise ValueError(f"line {number}: {exc}") from None
    return lines


@dataclass
class Stats:
    events: int = 0
    first: Line | None = None
    last: Line | None = None
    by_type: Counter[str] = field(default_factory=Counter)
    by_aggregate: Counter[str] = field(default_factory=Counter)

    def add(self, line: Line) -> None:
        self.events += 1
        self.first = self.first or line
        self.last = line
        self.by_type[line.type] += 1
        parts = line.subject.split(".")
        self.by_aggregate[parts[2] if len(parts) >= 4 else "?"] += 1

    def report(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "first": {"sequence": self.first.sequence, "time": self.first.time}
            if self.first
            else None,
            "last": {"sequence": self.last.sequence, "time": self.last.time} if self.last else None,
            "by_type": dict(sorted(self.by_type.items())),
            "by_aggregate": dict(sorted(self.by_aggregate.items())),
        }


# --- the command ------------------------------------------------------------------------


def add_parser(sub: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    events = sub.add_parser("events", help="read, export and import the event log")
    events.set_defaults(func=handler)
    verbs = events.add_subparsers(dest="verb", required=True)

    def filters(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--type", action="append", default=[], help="event type (repeatable)")
        parser.add_argument("--aggregate", default="", help="an aggregate id")
        parser.add_argument("--organization", default="", help="an organization id")
        parser.add_argument("--subject", default="", help="NATS subject filter (wildcards)")

    tail = verbs.add_parser("tail", help="print events as they are appended (Ctrl-C stops)")
    filters(tail)
    tail.add_argument("--from-start", action="store_true", help="start at the first event")
    tail.add_argument("--limit", type=int, default=0, help="stop after this many events")
    show = verbs.add_parser("show", help="the full history of one aggregate")
    show.add_argument("aggregate_id")
    export = verbs.add_parser("export", help="JSON Lines, by sequence or time range")
    filters(export)
    export.add_argument("--from-sequence", type=int, default=1)
    export.add_argument("--to-sequence", type=int, default=0)
    export.add_argument("--since", type=_moment, default=None, help="ISO time, inclusive")
    export.add_argument("--until", type=_moment, default=None, help="ISO time, exclusive")
    export.add_argument("--output", "-o", default="-", help="file (default: standard output)")
    importing = verbs.add_parser("import", help="load an export into an empty log")
    importing.add_argument("file", help="JSON Lines from `phoenix events export` (- for stdin)")
    verbs.add_parser("stats", help="counts by type and aggregate, first and last event")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(BaseSettings)
    except SettingsError as exc:
        print(f"phoenix: {exc}", file=sys.stderr)
        return 2
    try:
        with ExitStack() as files:
            source = out = None
            if args.verb == "import":
                source = (
                    sys.stdin if args.file == "-" else files.enter_context(_open(args.file, "r"))
                )
            if args.verb == "export":
                out = (
                    sys.stdout
                    if args.output == "-"
                    else files.enter_context(_open(args.output, "w"))
                )
            return asyncio.run(_run(args, settings, source, out))
    except KeyboardInterrupt:
        return 0
    except ValueError as exc:
        print(f"phoenix: {exc}", file=sys.stderr)
        return 2
    except (OSError, nats.errors.Error) as exc:
        print(f"phoenix: cannot reach NATS at the configured URL: {exc}", file=sys.stderr)
        return 1


def _open(path: str, mode: str) -> IO[str]:
    try:
        return open(path, mode, encoding="utf-8")  # the caller's ExitStack closes it
    except OSError as exc:
        raise ValueError(f"cannot open {path}: {exc.strerror}") from None


async def _run(
    args: argparse.Namespace,
    settings: BaseSettings,
    source: IO[str] | None,
    out: IO[str] | None,
) -> int:
    nc = await nats.connect(
        settings.nats_url.split(","), connect_timeout=5, max_reconnect_attempts=1
    )
    try:
        js = nc.jetstream()
        subjects = Subjects(settings.namespace)
        stream = Streams(subjects).events
        verb = args.verb
        if verb == "import":
            assert source is not None
            count = await import_lines(js, subjects, stream, parse_lines(source))
            print(f"imported {count} events into {stream}", file=sys.stderr)
            return 0
        if verb == "show":
            where = Filter(aggregate_id=args.aggregate_id)
            subject = f"{settings.namespace}.evt.*.{args.aggregate_id}"
            found = 0
            async for line in read(js, stream, subject, where, follow=False):
                write(sys.stdout, line)
                found += 1
            if not found:
                print(f"phoenix: no events for aggregate {args.aggregate_id}", file=sys.stderr)
                return 1
            return 0
        if verb == "stats":
            stats = Stats(by_type=Counter(), by_aggregate=Counter())
            async for line in read(js, stream, subjects.all_events, Filter(), follow=False):
                stats.add(line)
            sys.stdout.write(_encoder.encode(stats.report()).decode() + "\n")
            return 0
        where = Filter(
            types=frozenset(args.type),
            aggregate_id=args.aggregate,
            organization_id=args.organization,
            since=getattr(args, "since", None),
            until=getattr(args, "until", None),
            first=getattr(args, "from_sequence", 1),
            last=getattr(args, "to_sequence", 0),
        )
        subject = args.subject or subjects.all_events
        if verb == "tail":
            if not args.from_start:
                info = await js.stream_info(stream)
                where = Filter(**{**where.__dict__, "first": int(info.state.last_seq) + 1})
            # Said once the start is fixed: what is appended from now on will be shown.
            print(f"phoenix: tailing from sequence {where.first}", file=sys.stderr, flush=True)
            shown = 0
            async for line in read(js, stream, subject, where, follow=True):
                write(sys.stdout, line)
                shown += 1
                if args.limit and shown >= args.limit:
                    break
            return 0
        assert out is not None
        count = 0
        async for line in read(js, stream, subject, where, follow=False):
            write(out, line)
            count += 1
        print(f"exported {count} events", file=sys.stderr)
        return 0
    finally:
        await nc.close()
