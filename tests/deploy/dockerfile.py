"""A small reader of the root Dockerfile: stages, their instructions, what a target inherits.

Enough for the checks in this package (no engine here to build the images): it joins
continued lines, drops comments and keeps each instruction's keyword and arguments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = ("gateway", "auth", "scheduler", "executor", "evaluator", "notifier")


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            keyword, _, args = whole.partition(" ")
            found.append((keyword.upper(), args.strip()))
    return found


def stages(text: str | None = None) -> dict[str, Stage]:
    """Every named stage (``FROM base AS name``), in order."""
    text = DOCKERFILE.read_text() if text is None else text
    result: dict[str, Stage] = {}
    current: Stage | None = None
    for keyword, args in instructions(text):
        if keyword == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else words[0]
            current = Stage(name=name, base=words[0])
            result[name] = current
        elif current is not None:
            current.instructions.append((keyword, args))
    return result


def chain(all_stages: dict[str, Stage], target: str) -> list[Stage]:
    """The target and the stages it is built FROM, nearest first."""
    found = []
    name: str | None = target
    while name is not None and name in all_stages:
        stage = all_stages[name]
        found.append(stage)
        name = stage.base
    return found


def effective(all_stages: dict[str, Stage], target: str, keyword: str) -> str | None:
    """The last ``keyword`` instruction a target has, its own or inherited."""
    for stage in chain(all_stages, target):
        values = stage.all(keyword)
        if values:
            return values[-1]
    return None


def exec_form(args: str) -> list[str]:
    """The JSON array of an exec-form instruction (raises on shell form)."""
    value = json.loads(args)
    assert isinstance(value, list), args
    return [str(item) for item in value]
