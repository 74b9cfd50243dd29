"""The ``phoenix`` command: ``run`` one service, ``dev`` for the whole stack, ``config``,
``events`` (the event log as a tool), ``projections``, ``dead-letters``, ``bench``."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

SERVICES = ("gateway", "auth", "scheduler", "executor", "evaluator", "notifier")


def service_entry(name: str):  # type: ignore[no-untyped-def]
    """The ``main`` of an installed service, found through the ``phoenix.services`` entry points."""
    for entry in entry_points(group="phoenix.services"):
        if entry.name == name:
            return entry.load()
    return None


def cmd_run(args: argparse.Namespace) -> int:
    main = service_entry(args.service)
    if main is None:
        print(f"phoenix: service {args.service!r} is not installed here", file=sys.stderr)
        return 2
    main()
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    from phoenix_cli.dev import run_dev

    return run_dev(args)


def cmd_config(args: argparse.Namespace) -> int:
    from phoenix_cli.config_table import print_table

    print_table(args.service)
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from phoenix_cli.events import run

    return run(args)


def cmd_projections(args: argparse.Namespace) -> int:
    from phoenix_cli.projections import run

    return run(args)


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from phoenix_cli.dead_letters import run

    return run(args)


def cmd_bench(args: argparse.Namespace) -> int:
    return bench_with(args.rest)


def bench_with(argv: list[str]) -> int:
    try:
        from phoenix_bench.run import main as bench
    except ImportError:
        print(
            "phoenix: the benchmark needs the workspace's phoenix-bench (uv sync from the"
            " repository root)",
            file=sys.stderr,
        )
        return 2
    return bench(argv)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phoenix", description="Phoenix uptime monitoring")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one service (what a container runs)")
    run.add_argument("service", choices=SERVICES)
    run.set_defaults(func=cmd_run)
    dev = sub.add_parser("dev", help="run the whole stack; embedded servers unless URLs are set")
    dev.add_argument("--data-dir", default=".phoenix", help="where embedded servers keep data")
    dev.set_defaults(func=cmd_dev)
    config = sub.add_parser("config", help="print every setting with its default and meaning")
    config.add_argument("service", nargs="?", choices=SERVICES)
    config.set_defaults(func=cmd_config)
    bench = sub.add_parser(
        "bench",
        help="the whole stack under N monitors, measured (phoenix bench --help)",
        add_help=False,  # its own parser answers --help
    )
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)
    from phoenix_cli import dead_letters, events, projections

    events.add_parser(sub, cmd_events)
    projections.add_parser(sub, cmd_projections)
    dead_letters.add_parser(sub, cmd_dead_letters)
    return parser


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:  # its options are its own parser's, --help included
        raise SystemExit(bench_with(argv[1:]))
    args = build_parser().parse_args(argv)
    raise SystemExit(args.func(args))
