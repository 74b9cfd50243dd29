"""The configuration table (README) generated from the services' settings classes."""

from __future__ import annotations

import importlib

from phoenix_platform.settings import BaseSettings, describe

SETTINGS = {
    "gateway": "phoenix_gateway.settings:GatewaySettings",
    "auth": "phoenix_auth.settings:AuthSettings",
    "scheduler": "phoenix_scheduler.settings:SchedulerSettings",
    "executor": "phoenix_executor.settings:ExecutorSettings",
    "evaluator": "phoenix_evaluator.settings:EvaluatorSettings",
    "notifier": "phoenix_notifier.settings:NotifierSettings",
}


def settings_class(service: str) -> type[BaseSettings]:
    module, _, name = SETTINGS[service].partition(":")
    cls: type[BaseSettings] = getattr(importlib.import_module(module), name)
    return cls


def rows(service: str | None = None) -> list[tuple[str, str, str, str]]:
    """(variable, services, default, meaning); shared settings listed once."""
    merged: dict[str, tuple[list[str], str, str]] = {}
    for name in [service] if service else list(SETTINGS):
        try:
            cls = settings_class(name)
        except ImportError:
            continue
        for variable, default, meaning in describe(cls):
            if meaning.startswith("Unused"):
                continue
            users, first_default, _ = merged.setdefault(variable, ([], default, meaning))
            users.append(name if default == first_default else f"{name} ({default})")
    every = len(SETTINGS)
    return [
        (
            variable,
            "all" if len(users) == every and "(" not in "".join(users) else ", ".join(users),
            default,
            meaning,
        )
        for variable, (users, default, meaning) in merged.items()
    ]


def print_table(service: str | None = None) -> None:
    print("| variable | services | default | meaning |")
    print("|---|---|---|---|")
    for variable, users, default, meaning in rows(service):
        print(f"| `{variable}` | {users} | `{default}` | {meaning} |")
