"""docker-compose.yml against the Compose Specification schema, offline, and what matters.

The schema is the one vendored in infra/schemas (see its README). Variables are
interpolated from .env.example as docker compose would from .env, with the two
required secrets filled in as a user must.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from phoenix_cli.config_table import rows

from tests.deploy.dockerfile import ROOT, SERVICES
from tests.deploy.test_images import health_setting, metrics_setting

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = ROOT / "infra" / "schemas" / "compose-spec.json"
PROMETHEUS = ROOT / "infra" / "prometheus" / "prometheus.yml"
REQUIRED = ("PHOENIX_SECRETS_KEY", "POSTGRES_PASSWORD")
FILLED = {"PHOENIX_SECRETS_KEY": "A" * 43 + "=", "POSTGRES_PASSWORD": "s3cret-for-tests"}
INFRA = ("nats", "postgres", "redis")
SHARED_KEY = ("gateway", "auth", "notifier", "executor")

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)"
    r"(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    pass


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?message}``,
    ``${VAR?message}``, ``${VAR:+other}``, ``$VAR`` and ``$$``."""

    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["plain"]
        op, arg = match["op"], match["arg"] or ""
        present = name in env
        filled = present and env[name] != ""
        if op in (":-", "-"):
            use_default = not filled if op == ":-" else not present
            return arg if use_default else env[name]
        if op in (":?", "?"):
            if not (filled if op == ":?" else present):
                raise MissingVariable(f"{name}: {arg}")
            return env[name]
        if op == ":+":
            return arg if filled else ""
        if op == "+":
            return arg if present else ""
        return env.get(name, "")

    return _VARIABLE.sub(one, value)


def walk(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [walk(item, env) for item in node]
    if isinstance(node, dict):
        return {key: walk(value, env) for key, value in node.items()}
    return node


def variables_used(text: str) -> set[str]:
    uncommented = "\n".join(line.split(" #")[0] for line in text.splitlines())
    uncommented = re.sub(r"(?m)^\s*#.*$", "", uncommented)
    return {
        match["braced"] or match["plain"]
        for match in _VARIABLE.finditer(uncommented)
        if not match["escaped"]
    }


def load(env: Mapping[str, str]) -> dict[str, Any]:
    raw = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(raw, dict)
    result = walk(raw, env)
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return read_env(ENV_EXAMPLE) | FILLED


@pytest.fixture(scope="module")
def compose(env: dict[str, str]) -> dict[str, Any]:
    return load(env)


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    value = service.get("environment", {})
    if isinstance(value, list):
        value = dict(item.split("=", 1) for item in value)
    return {str(k): str(v) for k, v in value.items()}


def health_test(service: Mapping[str, Any]) -> list[str]:
    test = service["healthcheck"]["test"]
    assert isinstance(test, list)
    assert test[0] == "CMD", "exec form, no shell"
    return [str(word) for word in test[1:]]


def test_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_a_broken_file_is_caught_by_the_same_validation(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["gateway"]["depends_on"]["nats"]["condition"] = "service_happy"
    broken["services"]["auth"]["restart_policy"] = "always"
    assert len(list(jsonschema.Draft202012Validator(schema).iter_errors(broken))) >= 2


def test_every_variable_is_in_env_example() -> None:
    used = variables_used(COMPOSE.read_text())
    missing = used - set(read_env(ENV_EXAMPLE))
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_the_secrets_are_required_and_empty_in_the_example() -> None:
    example = read_env(ENV_EXAMPLE)
    for name in REQUIRED:
        assert example[name] == "", f"{name} must not have a usable value in .env.example"
        with pytest.raises(MissingVariable, match=name):
            load(example | {other: FILLED[other] for other in REQUIRED if other != name})


def test_every_phoenix_variable_is_a_real_setting_of_that_service(
    compose: dict[str, Any],
) -> None:
    every = {variable for variable, *_ in rows()}
    for name in set(read_env(ENV_EXAMPLE)) | variables_used(COMPOSE.read_text()):
        if name.startswith("PHOENIX_"):
            assert name in every, f"{name} is not a Phoenix setting (see `phoenix config`)"
    for service in SERVICES:
        own = {variable for variable, *_ in rows(service)}
        for name in environment(compose["services"][service]):
            assert name.startswith("PHOENIX_"), f"{service}: {name}"
            assert name in own, f"{service} does not read {name}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_built_healthy_and_waits_for_its_infrastructure(
    compose: dict[str, Any], service: str
) -> None:
    spec = compose["services"][service]
    assert spec["build"] == {"context": ".", "target": service}
    assert spec["image"] == f"phoenix-{service}"
    assert spec["restart"] in ("unless-stopped", "always", "on-failure")
    for infra in INFRA:
        assert spec["depends_on"][infra]["condition"] == "service_healthy", infra
    variable, default = health_setting(service)
    port = environment(spec).get(variable, str(default))
    assert health_test(spec) == [
        "/app/.venv/bin/python",
        "-m",
        "phoenix_platform.probe",
        variable,
        port,
    ]
    assert port == str(default), "the image's HEALTHCHECK and Prometheus assume the default"


def test_every_container_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        assert "healthcheck" in spec, name
        assert "restart" in spec, name
    nats = health_test(compose["services"]["nats"])
    assert any("/healthz?js-enabled-only=true" in word for word in nats)
    assert "--jetstream" in compose["services"]["nats"]["command"]


def test_the_secrets_key_is_one_value_for_gateway_auth_notifier_and_executor(
    compose: dict[str, Any], env: dict[str, str]
) -> None:
    for service in SERVICES:
        key = environment(compose["services"][service]).get("PHOENIX_SECRETS_KEY")
        if service in SHARED_KEY:
            assert key == env["PHOENIX_SECRETS_KEY"], service
        else:
            assert key is None, f"{service} needs no secrets key"


def test_the_database_url_carries_the_postgres_password(
    compose: dict[str, Any], env: dict[str, str]
) -> None:
    postgres = environment(compose["services"]["postgres"])
    assert postgres["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    for service in SERVICES:
        url = environment(compose["services"][service])["PHOENIX_DATABASE_URL"]
        assert url == (
            f"postgresql://{postgres['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}"
            f"@postgres:5432/{postgres['POSTGRES_DB']}"
        )


def test_only_the_gateway_and_mailpit_are_published(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        ports = [str(port) for port in spec.get("ports", [])]
        if name == "gateway":
            assert ports == ["8080:8080"]
        elif name == "mailpit" or spec.get("profiles"):
            # The mail catcher's UI, and opt-in tools, only on the host's loopback.
            assert all(port.startswith("127.0.0.1:") for port in ports), (name, ports)
        else:
            assert not ports, f"{name} must not be published: {ports}"
        assert "expose" not in spec or name != "postgres"


def test_the_private_targets_admit_mailpit_and_not_the_stack(
    compose: dict[str, Any],
) -> None:
    subnet = ipaddress.ip_network(compose["networks"]["phoenix"]["ipam"]["config"][0]["subnet"])
    mailpit = ipaddress.ip_address(
        compose["services"]["mailpit"]["networks"]["phoenix"]["ipv4_address"]
    )
    assert mailpit in subnet
    for service in ("executor", "notifier"):
        allowed = environment(compose["services"][service])["PHOENIX_ALLOW_PRIVATE_TARGETS"]
        networks = [ipaddress.ip_network(cidr.strip()) for cidr in allowed.split(",") if cidr]
        assert any(mailpit in network for network in networks), service
        assert not any(network.supernet_of(subnet) for network in networks), (  # type: ignore[arg-type]
            f"{service} may reach the whole stack network"
        )


def test_prometheus_scrapes_every_service_on_its_metrics_port() -> None:
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for service in SERVICES:
        _, port = metrics_setting(service)  # the gateway's too: never its API port
        (sd,) = jobs[service]["dns_sd_configs"]
        assert sd["names"] == [service], service
        assert sd["port"] == port, service


def test_health_ports_answer_probes_inside_the_network_and_are_never_published(
    compose: dict[str, Any],
) -> None:
    for service in SERVICES:
        spec = compose["services"][service]
        assert environment(spec)["PHOENIX_HEALTH_HOST"] == "0.0.0.0", service
        variable, default = metrics_setting(service)
        port = environment(spec).get(variable, str(default))
        assert port == str(default), "the image and Prometheus assume the default"
        published = [str(p) for p in spec.get("ports", [])]
        assert not any(p.split(":")[-1] == port for p in published), (service, published)
