"""The shape rules of the codebase, checked so they stay true."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def imported_modules(package_dir: Path) -> set[str]:
    found = set()
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_all_six_services_exist() -> None:
    assert SERVICES == ["auth", "evaluator", "executor", "gateway", "notifier", "scheduler"]


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another_service(service: str) -> None:
    others = {f"phoenix_{name}" for name in SERVICES if name != service}
    imports = imported_modules(ROOT / "services" / service / "src")
    assert imports & others == set()


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_depends_on_another_service(service: str) -> None:
    project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
    others = {f"phoenix-{name}" for name in SERVICES if name != service}
    assert (
        not {dep.split("[")[0].split(">")[0].strip() for dep in project["project"]["dependencies"]}
        & others
    )


def test_contracts_depend_on_msgspec_only() -> None:
    imports = imported_modules(ROOT / "contracts" / "src")
    assert (
        imports
        - {"phoenix_contracts", "msgspec", "__future__", "datetime", "typing", "sys", "pathlib"}
        - {"re", "urllib", "uuid", "collections", "zlib", "ipaddress"}  # standard library only
        == set()
    )


def test_libraries_never_import_a_service() -> None:
    services = {f"phoenix_{name}" for name in SERVICES}
    for lib in (ROOT / "libs").iterdir():
        if lib.name == "cli":
            continue  # the command runs services, by entry point, never by import
        if lib.name == "bench":
            continue  # benchmarks drive a service's parts directly to measure them
        assert imported_modules(lib / "src") & services == set(), lib.name


LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def test_no_log_call_passes_event_as_a_keyword() -> None:
    # structlog takes the event name as its first parameter, ``event``: a keyword of
    # that name raises TypeError when the line runs, after whatever it reports on.
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for top in ("services", "libs", "contracts")
        for path in (ROOT / top).rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in LOG_METHODS
        and any(keyword.arg == "event" for keyword in node.keywords)
    ]
    assert offenders == []
