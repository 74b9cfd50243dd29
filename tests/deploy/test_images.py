"""The per-service images, as far as this machine can check them without a Docker engine.

Two kinds of checks:

* the Dockerfile itself: a target per service, non-root, exec-form entry point and health
  check on the service's own port, ``uv sync --frozen`` for exactly that package;
* the environment each image would hold: the same two ``uv sync`` steps the build stage runs,
  on a copy of exactly what the build context lets in, into a scratch venv; then that venv
  runs ``python -m phoenix_<service>`` and holds no other service's dependencies.

The second kind needs the uv cache (or PyPI) and takes some seconds per service; each
sync is bounded by a timeout.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from phoenix_cli.config_table import settings_class

from tests.deploy.dockerfile import (
    DOCKERFILE,
    ROOT,
    SERVICES,
    chain,
    effective,
    exec_form,
    stages,
)

UV = shutil.which("uv")
SYNC_TIMEOUT = 240

# What each image must not carry: the distinctive dependencies of the other services.
OTHERS_OUT = {
    "gateway": {"aiosmtplib", "argon2-cffi", "dnspython", "icmplib"},
    "auth": {"litestar", "uvicorn", "aiosmtplib", "dnspython", "icmplib"},
    "scheduler": {"litestar", "uvicorn", "aiosmtplib", "argon2-cffi", "dnspython", "icmplib"},
    "executor": {"litestar", "uvicorn", "aiosmtplib", "argon2-cffi"},
    "evaluator": {"litestar", "uvicorn", "aiosmtplib", "argon2-cffi", "dnspython", "icmplib"},
    "notifier": {"litestar", "uvicorn", "argon2-cffi", "dnspython", "icmplib"},
}


def health_setting(service: str) -> tuple[str, int]:
    """(variable, default) of the port /healthz answers on, from the settings class."""
    cls = settings_class(service)
    field = "gateway_port" if service == "gateway" else "health_port"
    return f"PHOENIX_{field.upper()}", int(getattr(cls(), field))


def metrics_setting(service: str) -> tuple[str, int]:
    """(variable, default) of the port /metrics answers on: the health port, the gateway's too."""
    return "PHOENIX_HEALTH_PORT", int(settings_class(service)().health_port)


def healthcheck_command(args: str) -> list[str]:
    _, _, command = args.partition("CMD ")
    return exec_form(command)


# --- the Dockerfile --------------------------------------------------------------------


def test_every_service_has_a_target_and_the_targets_share_one_runtime() -> None:
    found = stages()
    for service in SERVICES:
        assert service in found, f"no `FROM ... AS {service}` stage"
        names = [stage.name for stage in chain(found, service)]
        assert names[1:] == ["runtime"], names


@pytest.mark.parametrize("service", SERVICES)
def test_the_health_port_listens_beyond_loopback_in_a_container(service: str) -> None:
    # Loopback is the setting's default (for `phoenix dev`); probes and
    # Prometheus reach a container from outside it.
    words = [
        word
        for stage in chain(stages(), service)
        for args in stage.all("ENV")
        for word in shlex.split(args)
    ]
    assert "PHOENIX_HEALTH_HOST=0.0.0.0" in words
    assert str(metrics_setting(service)[1]) in " ".join(
        args for stage in chain(stages(), service) for args in stage.all("EXPOSE")
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_target_runs_as_uid_10001(service: str) -> None:
    user = effective(stages(), service, "USER")
    assert user is not None, "no USER: the image would run as root"
    uid = user.split(":")[0]
    assert uid == "10001", user
    assert "useradd" in " ".join(stages()["runtime"].all("RUN"))


@pytest.mark.parametrize("service", SERVICES)
def test_the_target_runs_its_own_module_in_exec_form(service: str) -> None:
    found = stages()
    entrypoint = effective(found, service, "ENTRYPOINT")
    assert entrypoint is not None
    assert exec_form(entrypoint)[-2:] == ["-m", f"phoenix_{service}"]
    assert effective(found, service, "STOPSIGNAL") == "SIGTERM"
    assert effective(found, service, "CMD") is None  # nothing a shell would interpret


@pytest.mark.parametrize("service", SERVICES)
def test_the_health_check_probes_the_services_own_port(service: str) -> None:
    found = stages()
    check = effective(found, service, "HEALTHCHECK")
    assert check is not None, "no HEALTHCHECK"
    command = healthcheck_command(check)
    variable, default = health_setting(service)
    assert command[1:] == ["-m", "phoenix_platform.probe", variable, str(default)], command
    assert command[0] == exec_form(effective(found, service, "ENTRYPOINT") or "[]")[0]
    assert str(default) in (effective(found, service, "EXPOSE") or "").split()


@pytest.mark.parametrize("service", SERVICES)
def test_the_build_stage_syncs_exactly_that_package_frozen(service: str) -> None:
    found = stages()
    copied = found[service].all("COPY")
    assert any(f"--from=build-{service} " in c for c in copied), copied
    syncs = [run for run in found[f"build-{service}"].all("RUN") if "uv sync" in run]
    assert len(syncs) == 2, syncs
    for run in syncs:
        words = shlex.split(run.split("uv sync", 1)[1])
        assert {"--frozen", "--no-dev", "--no-editable"} <= set(words), run
        assert words[words.index("--package") + 1] == f"phoenix-{service}", run
    assert "--no-install-workspace" in syncs[0]
    assert "--mount=type=cache" in syncs[0]


def test_the_base_images_are_pinned() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    uv_image = next(line for line in text.splitlines() if line.startswith("ARG UV_IMAGE="))
    tag = uv_image.rsplit(":", 1)[1]
    assert tag.count(".") == 2, f"pin uv to a release, not {tag}"


def test_the_build_context_lets_in_what_the_dockerfile_copies() -> None:
    sources = set()
    for stage in stages().values():
        for args in stage.all("COPY"):
            if "--from=" not in args:
                sources.update(args.split()[:-1])
    for source in sources:
        assert (ROOT / source).exists(), source
        assert _context_admits(source), f".dockerignore keeps {source} out of the context"


# --- the environment each image holds ----------------------------------------------------


def _context_admits(path: str) -> bool:
    """Whether the root .dockerignore (an allowlist) lets ``path`` into the build context."""
    from fnmatch import fnmatch

    admitted = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        rule = line.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        if pattern == "*" or fnmatch(path, pattern) or path.startswith(pattern + "/"):
            admitted = negate
    return admitted


def _build_context(tmp: Path, service: str) -> Path:
    """What the build stage of ``service`` holds: every pyproject.toml, the lock, the sources."""
    context = tmp / "context"
    found = stages()
    for stage in chain(found, f"build-{service}"):
        for args in stage.all("COPY"):
            if "--from=" in args:
                continue
            *sources, destination = args.split()
            for source in sources:
                target = context / destination.rstrip("/")
                if destination.endswith("/") or destination == "./":
                    target = target / Path(source).name
                if (ROOT / source).is_dir():
                    shutil.copytree(
                        ROOT / source,
                        target,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                        dirs_exist_ok=True,
                    )
                else:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / source, target)
    return context


def _distributions(venv: Path) -> set[str]:
    site = next(venv.glob("lib/python3*/site-packages"))
    names = set()
    for info in site.glob("*.dist-info"):
        metadata = (info / "METADATA").read_text(errors="replace")
        for line in metadata.splitlines():
            if line.startswith("Name:"):
                names.add(line.split(":", 1)[1].strip().lower().replace("_", "-"))
                break
    return names


def _sync(context: Path, venv: Path, service: str, *extra: str) -> None:
    assert UV is not None
    # Keep the caller's index and cache settings; only where the venv goes is ours.
    skip = {"UV_PROJECT_ENVIRONMENT", "UV_PYTHON", "VIRTUAL_ENV", "UV_NO_SYNC", "UV_OFFLINE"}
    environ = {k: v for k, v in os.environ.items() if k not in skip}
    environ |= {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON_DOWNLOADS": "never"}
    done = subprocess.run(
        [
            *(UV, "sync", "--frozen", "--no-dev", "--no-editable", *extra),
            *("--package", f"phoenix-{service}", "--python", sys.executable),
        ],
        cwd=context,
        env=environ,
        capture_output=True,
        text=True,
        timeout=SYNC_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.skipif(UV is None, reason="uv is not on PATH")
@pytest.mark.timeout(2 * SYNC_TIMEOUT + 60)
@pytest.mark.parametrize("service", SERVICES)
def test_the_image_environment_holds_that_service_alone(service: str, tmp_path: Path) -> None:
    context = _build_context(tmp_path, service)
    venv = tmp_path / "venv"
    _sync(context, venv, service, "--no-install-workspace")  # the cached dependency layer
    assert not {"phoenix-platform", f"phoenix-{service}"} & _distributions(venv)
    _sync(context, venv, service)
    installed = _distributions(venv)

    phoenix = {name for name in installed if name.startswith("phoenix-")}
    assert phoenix == {"phoenix-contracts", "phoenix-platform", f"phoenix-{service}"}
    assert not OTHERS_OUT[service] & installed, OTHERS_OUT[service] & installed
    declared = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
    for requirement in declared["project"]["dependencies"]:
        name = requirement.split(">")[0].split("=")[0].split("[")[0].strip().lower()
        assert name in installed, f"{name} missing from the {service} image"

    python = venv / "bin" / "python"
    # The entry point runs the service's main(): a bad setting stops it with exit 2.
    bad = subprocess.run(
        [str(python), "-m", f"phoenix_{service}"],
        env={"PHOENIX_LOG_LEVEL": "loud", "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2, bad.stderr
    assert "PHOENIX_LOG_LEVEL" in bad.stderr
    # The health probe runs from the image alone and says "unhealthy" when nothing listens.
    variable, _ = health_setting(service)
    probe = subprocess.run(
        [str(python), "-m", "phoenix_platform.probe", variable, "1"],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        timeout=30,
    )
    assert probe.returncode == 1
    # Installed as wheels: nothing points back into the build context.
    assert not list(venv.glob("lib/python3*/site-packages/*.pth")) or all(
        str(context) not in pth.read_text() for pth in venv.glob("lib/python3*/site-packages/*.pth")
    )
