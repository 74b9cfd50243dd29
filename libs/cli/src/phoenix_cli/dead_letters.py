"""``phoenix dead-letters``: see what was parked, and replay it.

Reads the ``<NS>_DLQ`` stream of ``PHOENIX_NAMESPACE`` on ``PHOENIX_NATS_URL``.
``list`` prints one parked message a line (JSON Lines, or ``--table``)::

    {"sequence": 3, "stream": "PHX_EVENTS", "original_sequence": 42,
     "subject": "phx.evt.monitor.<id>", "consumer": "gateway-read-model",
     "error": "...", "deliveries": 1, "time": "<when it was parked>"}

``replay <sequence>`` puts one back where it failed, and removes the dead
letter once that worked:

- a work-queue message (checks, results, notifications) is published again
  to its original subject, where its consumer takes it like a new one;
- an event of the log is never appended again (that would be a second fact):
  it is re-applied to the projection that parked it (``consumer``), which needs
  ``PHOENIX_DATABASE_URL``. Only projections without side effects can be
  (those of ``phoenix projections list``); an in-memory follower (scheduler,
  evaluator) applies the whole log again when its service restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import nats
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError
from phoenix_contracts.subjects import Subjects
from phoenix_platform.messaging.streams import Streams
from phoenix_platform.settings import BaseSettings, SettingsError, load

from phoenix_cli.projections import available


class DeadLetter(msgspec.Struct, kw_only=True):
    sequence: int  # in the dead-letter stream: what `replay` takes
    stream: str
    original_sequence: int
    subject: str
    consumer: str
    error: str
    deliveries: int
    time: datetime


class ReplayRefused(Exception):
    """This dead letter cannot be replayed from here; the message says what to do."""


def dead_letter(sequence: int, headers: dict[str, str], time: datetime) -> DeadLetter:
    return DeadLetter(
        sequence=sequence,
        stream=headers.get("Phx-Dlq-Stream", ""),
        original_sequence=int(headers.get("Phx-Dlq-Sequence", "0") or 0),
        subject=headers.get("Phx-Dlq-Subject", ""),
        consumer=headers.get("Phx-Dlq-Consumer", ""),
        error=headers.get("Phx-Dlq-Error", ""),
        deliveries=int(headers.get("Phx-Dlq-Deliveries", "0") or 0),
        time=time,
    )


async def parked(js: JetStreamContext, stream: str) -> AsyncIterator[tuple[DeadLetter, bytes]]:
    """Every dead letter still in ``stream``, oldest first."""
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        return
    for sequence in range(int(info.state.first_seq or 1), int(info.state.last_seq) + 1):
        try:
            msg = await js.get_msg(stream, sequence)
        except NotFoundError:
            continue  # replayed and removed
        yield dead_letter(sequence, dict(msg.headers or {}), _stored_at(msg)), msg.data or b""


def _stored_at(msg: RawStreamMsg) -> datetime:
    return msg.time or datetime.fromtimestamp(0, UTC)


async def replay(
    js: JetStreamContext,
    subjects: Subjects,
    sequence: int,
    database_url: str,
) -> str:
    """Put dead letter ``sequence`` back; what was done, in a sentence."""
    streams = Streams(subjects)
    try:
        msg = await js.get_msg(streams.dead_letters, sequence)
    except NotFoundError:
        raise ReplayRefused(
            f"no dead letter {sequence} (see `phoenix dead-letters list`)"
        ) from None
    letter = dead_letter(sequence, dict(msg.headers or {}), _stored_at(msg))
    data = msg.data or b""
    if letter.stream == streams.events:
        done = await _reapply(letter, data, database_url)
    else:
        if not letter.subject.startswith(f"{subjects.namespace}."):
            raise ReplayRefused(f"dead letter {sequence} names no subject of this namespace")
        # A fresh message id: the original's may still be in the duplicate window.
        await js.publish(letter.subject, data, headers={"Nats-Msg-Id": f"replay:{sequence}"})
        done = f"published again to {letter.subject}"
    await js.delete_msg(streams.dead_letters, sequence)
    return done


async def _reapply(letter: DeadLetter, data: bytes, database_url: str) -> str:
    # Imported here: only this path needs SQLAlchemy, and `phoenix` starts faster without.
    from phoenix_platform.database import create_engine
    from phoenix_platform.projection import reapply

    spec = available().get(letter.consumer)
    if spec is None:
        raise ReplayRefused(
            f"event {letter.original_sequence} was parked by {letter.consumer or 'an unnamed'}"
            " follower, which cannot be replayed from here: an in-memory follower applies the"
            " whole log again when its service restarts; a projection with side effects (the"
            " notifier's routing) is never replayed, since that would send stale alerts"
        )
    engine = create_engine(database_url, spec.schema, pool_size=1)
    try:
        await reapply(engine, spec.projection(), letter.original_sequence, data)
    finally:
        await engine.dispose()
    return f"event {letter.original_sequence} applied again to {spec.name}"


# --- the command ------------------------------------------------------------------------


def add_parser(sub: Any, handler: Callable[[argparse.Namespace], int]) -> None:
    parser = sub.add_parser("dead-letters", help="list and replay parked messages and events")
    parser.set_defaults(func=handler)
    verbs = parser.add_subparsers(dest="verb", required=True)
    listing = verbs.add_parser("list", help="every parked message, oldest first")
    listing.add_argument("--table", action="store_true", help="a table instead of JSON Lines")
    listing.add_argument("--consumer", default="", help="only those this consumer parked")
    again = verbs.add_parser("replay", help="put one back where it failed, then remove it")
    again.add_argument("sequence", type=int, help="its sequence, from `list`")


def run(args: argparse.Namespace) -> int:
    try:
        settings = load(BaseSettings)
    except SettingsError as exc:
        print(f"phoenix: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_run(args, settings))
    except ReplayRefused as exc:
        print(f"phoenix: {exc}", file=sys.stderr)
        return 2
    except (OSError, nats.errors.Error) as exc:
        print(f"phoenix: cannot reach NATS at the configured URL: {exc}", file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, settings: BaseSettings) -> int:
    nc = await nats.connect(
        settings.nats_url.split(","), connect_timeout=5, max_reconnect_attempts=1
    )
    try:
        js = nc.jetstream()
        subjects = Subjects(settings.namespace)
        if args.verb == "replay":
            try:
                print(await replay(js, subjects, args.sequence, settings.database_url))
            except ReplayRefused:
                raise
            except Exception as exc:  # the projection refused it again: it stays parked
                print(f"phoenix: replay failed, still parked: {exc}", file=sys.stderr)
                return 1
            return 0
        if args.table:
            print("SEQ\tSTREAM\tORIGINAL\tCONSUMER\tPARKED AT\tSUBJECT\tERROR")
        async for letter, _ in parked(js, Streams(subjects).dead_letters):
            if args.consumer and letter.consumer != args.consumer:
                continue
            if args.table:
                print(
                    f"{letter.sequence}\t{letter.stream}\t{letter.original_sequence}\t"
                    f"{letter.consumer}\t{letter.time:%Y-%m-%d %H:%M:%S}\t{letter.subject}\t"
                    f"{letter.error[:120]}"
                )
            else:
                sys.stdout.write(msgspec.json.encode(letter).decode() + "\n")
        return 0
    finally:
        await nc.close()
