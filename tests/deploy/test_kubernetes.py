"""The Kubernetes manifests (infra/k8s), checked offline.

Each overlay is rendered with ``kubectl kustomize`` and every document is
validated against the OpenAPI schemas of a pinned Kubernetes release
(kubernetes-validate, strict: unknown fields are errors). Then the properties
that matter to Phoenix are asserted: probes on declared ports, resources,
security context, the Ingress's routes, that HPAs, PDBs and NetworkPolicies
select what they mean to, and that every environment variable is a setting
of the service that gets it. Custom resources (CloudNativePG) and the NATS
Helm values have no schema here and are checked structurally.
"""

from __future__ import annotations

import base64
import inspect
import ipaddress
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from phoenix_cli.config_table import SETTINGS, rows, settings_class
from phoenix_platform.netguard import BLOCKED
from phoenix_platform.settings import load

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "infra" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.31.0"
SERVICES = tuple(SETTINGS)
IMAGE = "ghcr.io/phoenix-uptime/phoenix-{service}"
# The Secret production creates out of band (overlays/prod/secrets.env.example).
EXTERNAL_SECRET = "phoenix-secrets"
PUBLIC_PREFIXES = {"/api", "/status", "/schema"}
# Private, shared, link-local (cloud metadata) and loopback: never reachable
# from the pods that contact user-supplied addresses.
MUST_EXCLUDE = frozenset(
    {
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
    }
)

Doc = dict[str, Any]


# --- rendering -------------------------------------------------------------------


def _kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is required in CI to render infra/k8s (Debian package kubectl)")
        pytest.skip("kubectl is not installed: the kustomize overlays cannot be rendered")
    return found


@cache
def _render(path: str) -> tuple[str, tuple[Doc, ...]]:
    result = subprocess.run(
        [_kubectl(), "kustomize", path], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, f"kubectl kustomize {path} failed:\n{result.stderr}"
    docs = tuple(d for d in yaml.safe_load_all(result.stdout) if d)
    return result.stdout, docs


def rendered(overlay: str) -> list[Doc]:
    return list(_render(str(K8S / "overlays" / overlay))[1])


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d.get("kind") == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def deployments(docs: list[Doc]) -> dict[str, Doc]:
    """service -> its Deployment; exactly one per service."""
    found = {d["metadata"]["name"].removeprefix("phoenix-"): d for d in of_kind(docs, "Deployment")}
    assert sorted(found) == sorted(SERVICES)
    return found


def container(deployment: Doc) -> Doc:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    result: Doc = containers[0]
    return result


def generated(docs: list[Doc], kind: str, name: str) -> Doc | None:
    """A ConfigMap or Secret by its name as referenced (kustomize adds a hash suffix)."""
    for doc in of_kind(docs, kind):
        if doc["metadata"]["name"] == name:
            return doc
    return None


# --- schema validation -----------------------------------------------------------


def test_rendering_is_deterministic(overlay: str) -> None:
    path = str(K8S / "overlays" / overlay)
    first = _render(path)[0]
    _render.cache_clear()
    assert _render(path)[0] == first


def test_every_document_is_valid_for_the_pinned_kubernetes_release(overlay: str) -> None:
    docs = rendered(overlay)
    assert docs
    checked = 0
    for doc in docs:
        if doc["apiVersion"].startswith("postgresql.cnpg.io/"):
            continue  # a custom resource: see test_the_cloudnativepg_cluster_is_well_formed
        problem = _schema_problem(doc)
        assert problem is None, f"{doc['kind']}/{doc['metadata']['name']}: {problem}"
        checked += 1
    assert checked >= 25


def _schema_problem(doc: Doc) -> str | None:
    # The message only: the exception's text carries the whole schema.
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return f"{'/'.join(str(p) for p in exc.path)}: {exc.message}"
    return None


def test_the_standalone_redis_manifest_is_valid() -> None:
    for doc in yaml.safe_load_all((K8S / "redis" / "redis.yaml").read_text()):
        assert _schema_problem(doc) is None, doc["kind"]


def test_the_cloudnativepg_cluster_is_well_formed() -> None:
    # kubernetes-validate has no schemas for custom resources: only the shape
    # that matters here (what Phoenix and the NetworkPolicies rely on) is checked.
    (cluster,) = list(yaml.safe_load_all((K8S / "postgres" / "cnpg-cluster.yaml").read_text()))
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["kind"] == "Cluster"
    # The -rw Service and the cnpg.io/cluster pod label derive from this name.
    assert cluster["metadata"]["name"] == "phoenix-db"
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert spec["bootstrap"]["initdb"]["database"] == "phoenix"
    assert spec["bootstrap"]["initdb"]["owner"] == "phoenix"
    assert re.fullmatch(r"\d+(\.\d+)?[GMT]i", spec["storage"]["size"])
    policy = named(rendered("dev"), "NetworkPolicy", "phoenix-egress-postgres")
    selectors = [peer["podSelector"]["matchLabels"] for peer in policy["spec"]["egress"][0]["to"]]
    assert {"cnpg.io/cluster": "phoenix-db"} in selectors
    dev_url = _dev_secret()["PHOENIX_DATABASE_URL"]
    assert "@phoenix-db-rw:5432/phoenix" in dev_url


def test_the_nats_values_have_the_documented_keys() -> None:
    # The NATS chart publishes no values.schema.json: only the keys Phoenix
    # depends on (and docs/kubernetes.md names) are checked.
    values = yaml.safe_load((K8S / "nats" / "values.yaml").read_text())
    config = values["config"]
    assert config["cluster"]["enabled"] is True
    assert config["cluster"]["replicas"] == 3
    assert config["jetstream"]["enabled"] is True
    file_store = config["jetstream"]["fileStore"]
    assert file_store["enabled"] is True
    assert file_store["pvc"]["enabled"] is True
    assert re.fullmatch(r"\d+[GT]i", file_store["pvc"]["size"])
    assert values["podDisruptionBudget"]["enabled"] is True
    assert "kubernetes.io/hostname" in values["podTemplate"]["topologySpreadConstraints"]
    docs = (ROOT / "docs" / "kubernetes.md").read_text()
    for key in (
        "config.cluster.enabled",
        "config.cluster.replicas",
        "config.jetstream.enabled",
        "config.jetstream.fileStore.pvc.size",
    ):
        assert f"`{key}`" in docs, key


# --- Deployments -----------------------------------------------------------------


def _ports(spec: Doc) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in spec.get("ports", [])}


def _port_number(spec: Doc, port: str | int) -> int:
    ports = _ports(spec)
    if isinstance(port, str):
        assert port in ports, f"{spec['name']}: probe port {port!r} is not declared"
        return ports[port]
    assert port in ports.values(), f"{spec['name']}: probe port {port} is not declared"
    return port


def test_every_deployment_probes_its_health_port(overlay: str) -> None:
    docs = rendered(overlay)
    for service, deployment in deployments(docs).items():
        spec = container(deployment)
        env = environment(docs, deployment)
        variable = "PHOENIX_GATEWAY_PORT" if service == "gateway" else "PHOENIX_HEALTH_PORT"
        listens = int(env.get(variable, _default(service, variable)))
        probes = {kind: spec.get(kind) for kind in ("startupProbe", "livenessProbe")}
        probes["readinessProbe"] = spec.get("readinessProbe")
        for kind, probe in probes.items():
            assert probe is not None, f"{service}: no {kind}"
            path = "/readyz" if kind == "readinessProbe" else "/healthz"
            assert probe["httpGet"]["path"] == path, (service, kind)
            assert _port_number(spec, probe["httpGet"]["port"]) == listens, (service, kind)
        # Migrations and the log replay must fit in the startup budget.
        startup = probes["startupProbe"]
        assert startup is not None
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 120, service
        # /metrics is on the health port, the gateway's too (never its API port);
        # it listens beyond loopback so kubelet and Prometheus reach it.
        metrics = int(env.get("PHOENIX_HEALTH_PORT", _default(service, "PHOENIX_HEALTH_PORT")))
        assert env.get("PHOENIX_HEALTH_HOST") == "0.0.0.0", service
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        assert int(annotations["prometheus.io/port"]) == metrics, service
        assert _ports(spec).get("metrics") == metrics, f"{service}: no port named metrics"


def test_every_deployment_has_requests_and_limits(overlay: str) -> None:
    for service, deployment in deployments(rendered(overlay)).items():
        resources = container(deployment)["resources"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[bound]), (service, bound)
        # Every service stays under 200 MB RSS: a limit far above hides leaks,
        # one below it kills healthy pods.
        limit = _mebibytes(resources["limits"]["memory"])
        assert 200 <= limit <= 512, (service, limit)
        assert _mebibytes(resources["requests"]["memory"]) <= limit


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return float(number) * (1024 if unit == "Gi" else 1)


def test_every_deployment_runs_locked_down(overlay: str) -> None:
    for service, deployment in deployments(rendered(overlay)).items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["automountServiceAccountToken"] is False, service
        assert pod["securityContext"]["runAsNonRoot"] is True, service
        assert pod["securityContext"]["runAsUser"] == 10001, service
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", service
        assert pod["terminationGracePeriodSeconds"] >= 30, service
        context = container(deployment)["securityContext"]
        assert context["runAsNonRoot"] is True, service
        assert context["runAsUser"] == 10001, service
        assert context["readOnlyRootFilesystem"] is True, service
        assert context["allowPrivilegeEscalation"] is False, service
        assert context["capabilities"]["drop"] == ["ALL"], service
        assert "add" not in context["capabilities"], service
        assert context["seccompProfile"]["type"] == "RuntimeDefault", service
        mounts = {m["mountPath"]: m["name"] for m in container(deployment)["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]], service
        assert pod["topologySpreadConstraints"], service


def test_the_executor_may_send_unprivileged_pings(overlay: str) -> None:
    pod = deployments(rendered(overlay))["executor"]["spec"]["template"]["spec"]
    sysctls = {s["name"]: s["value"] for s in pod["securityContext"]["sysctls"]}
    low, high = (int(x) for x in sysctls["net.ipv4.ping_group_range"].split())
    assert low <= pod["securityContext"]["runAsGroup"] <= high


def test_images_are_the_services_own(overlay: str) -> None:
    tags = set()
    for service, deployment in deployments(rendered(overlay)).items():
        image = container(deployment)["image"]
        name, _, tag = image.rpartition(":")
        assert name == IMAGE.format(service=service), image
        assert tag, image
        assert tag != "latest", image
        tags.add(tag)
    # The services share event contracts: one release for all of them.
    assert len(tags) == 1, tags


def test_production_pins_a_release() -> None:
    for deployment in deployments(rendered("prod")).values():
        tag = container(deployment)["image"].rpartition(":")[2]
        assert re.fullmatch(r"\d+\.\d+\.\d+", tag), tag


# --- environment -----------------------------------------------------------------


def _config_map(docs: list[Doc], name: str) -> dict[str, str]:
    found = generated(docs, "ConfigMap", name)
    assert found is not None, f"ConfigMap {name} is not rendered"
    data: dict[str, str] = found.get("data", {})
    return data


def _dev_secret() -> dict[str, str]:
    secret = next(
        s
        for s in of_kind(rendered("dev"), "Secret")
        if s["metadata"]["name"].startswith(EXTERNAL_SECRET)
    )
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def _example_secret() -> dict[str, str]:
    values = {}
    for line in (K8S / "overlays" / "prod" / "secrets.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def _secret(docs: list[Doc], name: str) -> dict[str, str]:
    found = generated(docs, "Secret", name)
    if found is None:
        assert name == EXTERNAL_SECRET, f"Secret {name} is referenced but neither rendered nor"
        return _example_secret()
    return {k: base64.b64decode(v).decode() for k, v in found.get("data", {}).items()}


def environment(docs: list[Doc], deployment: Doc) -> dict[str, str]:
    """What the container's environment will hold (secrets from the prod template)."""
    spec = container(deployment)
    env: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        env.update(_config_map(docs, source["configMapRef"]["name"]))
    for item in spec.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
            continue
        ref = item["valueFrom"]["secretKeyRef"]
        secret = _secret(docs, ref["name"])
        assert ref["key"] in secret, f"{item['name']}: key {ref['key']} not in {ref['name']}"
        env[item["name"]] = secret[ref["key"]]
    return env


def _default(service: str, variable: str) -> str:
    return next(default for name, _, default, _ in rows(service) if name == variable)


def _settings_names(service: str) -> set[str]:
    return {variable for variable, _, _, _ in rows(service)}


def test_every_variable_given_is_a_setting_of_its_service(overlay: str) -> None:
    docs = rendered(overlay)
    for service, deployment in deployments(docs).items():
        unknown = set(environment(docs, deployment)) - _settings_names(service)
        assert not unknown, f"{service} gets variables it does not read: {sorted(unknown)}"


def test_every_config_map_and_secret_key_is_a_setting(overlay: str) -> None:
    known = {variable for variable, _, _, _ in rows()}
    docs = rendered(overlay)
    objects = of_kind(docs, "ConfigMap") + [
        s for s in of_kind(docs, "Secret") if s["metadata"]["name"].startswith(EXTERNAL_SECRET)
    ]
    assert objects
    for doc in objects:
        unknown = set(doc.get("data", {})) - known
        assert not unknown, f"{doc['metadata']['name']}: {sorted(unknown)}"
    assert set(_example_secret()) <= known


def _uses(service: str, call: str) -> bool:
    module = __import__(f"phoenix_{service}.main", fromlist=["serve"])
    return f"{call}(" in inspect.getsource(module)


def test_every_deployment_gets_what_its_service_connects_to(overlay: str) -> None:
    docs = rendered(overlay)
    for service, deployment in deployments(docs).items():
        env = environment(docs, deployment)
        needed = {"PHOENIX_NATS_URL"}
        if _uses(service, "create_engine"):
            needed.add("PHOENIX_DATABASE_URL")
        if _uses(service, "create_redis"):
            needed.add("PHOENIX_REDIS_URL")
        if "PHOENIX_SECRETS_KEY" in _settings_names(service):
            # Empty would refuse two-factor and channel credentials.
            needed.add("PHOENIX_SECRETS_KEY")
        missing = needed - set(env)
        assert not missing, f"{service} lacks {sorted(missing)}"
        assert env["PHOENIX_NATS_URL"].startswith("nats://")
    gateway = environment(docs, deployments(docs)["gateway"])
    assert gateway["PHOENIX_GATEWAY_HOST"] == "0.0.0.0"


def test_the_services_accept_the_development_environment() -> None:
    # The settings classes themselves parse what dev gives every service: a
    # bad value (key, CIDR, pattern) would stop the pod at start.
    docs = rendered("dev")
    for service, deployment in deployments(docs).items():
        load(settings_class(service), environment(docs, deployment))


def test_the_services_accept_the_production_configuration() -> None:
    docs = rendered("prod")
    secret_keys = set(_example_secret())
    for service, deployment in deployments(docs).items():
        env = {k: v for k, v in environment(docs, deployment).items() if k not in secret_keys}
        load(settings_class(service), env)


# --- traffic ---------------------------------------------------------------------


def test_the_ingress_routes_only_the_public_prefixes(overlay: str) -> None:
    docs = rendered(overlay)
    (ingress,) = of_kind(docs, "Ingress")
    service = named(docs, "Service", "phoenix-gateway")
    service_ports = {p["name"] for p in service["spec"]["ports"]}
    paths = [path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
    assert {p["path"] for p in paths} == PUBLIC_PREFIXES
    for path in paths:
        assert path["pathType"] == "Prefix"
        assert "metrics" not in path["path"]
        assert "healthz" not in path["path"]
        backend = path["backend"]["service"]
        assert backend["name"] == "phoenix-gateway"
        assert backend["port"]["name"] in service_ports
    assert "defaultBackend" not in ingress["spec"]
    gateway = deployments(docs)["gateway"]
    labels = gateway["spec"]["template"]["metadata"]["labels"]
    assert _selects(service["spec"]["selector"], labels)
    target = next(p["targetPort"] for p in service["spec"]["ports"])
    assert target in _ports(container(gateway))


def test_production_serves_tls_on_a_host() -> None:
    (ingress,) = of_kind(rendered("prod"), "Ingress")
    hosts = [rule.get("host") for rule in ingress["spec"]["rules"]]
    assert all(hosts)
    assert {h for t in ingress["spec"]["tls"] for h in t["hosts"]} == set(hosts)


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    match = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def test_autoscalers_target_existing_deployments(overlay: str) -> None:
    docs = rendered(overlay)
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    if overlay == "dev":
        assert not hpas
        return
    names = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == {
        "phoenix-gateway",
        "phoenix-executor",
    }
    for hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["apiVersion"], target["kind"]) == ("apps/v1", "Deployment")
        assert target["name"] in names
        # A fixed count in the Deployment would be reset on every apply.
        assert "replicas" not in names[target["name"]]["spec"], target["name"]
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        # Utilization is relative to requests: without them the HPA is blind.
        resources = container(names[target["name"]])["resources"]["requests"]
        for metric in hpa["spec"]["metrics"]:
            assert metric["resource"]["name"] in resources


def test_disruption_budgets_match_one_deployment_each(overlay: str) -> None:
    docs = rendered(overlay)
    budgets = of_kind(docs, "PodDisruptionBudget")
    if overlay == "dev":
        assert not budgets  # one replica: a budget would block every drain
        return
    covered = []
    for budget in budgets:
        matched = [
            name
            for name, deployment in deployments(docs).items()
            if _selects(
                budget["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"]
            )
        ]
        assert len(matched) == 1, (budget["metadata"]["name"], matched)
        assert "minAvailable" in budget["spec"]
        covered += matched
    assert sorted(covered) == sorted(SERVICES)
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    for name, deployment in deployments(docs).items():
        budget = next(b for b in budgets if b["metadata"]["name"] == f"phoenix-{name}")
        replicas = (
            deployment["spec"].get("replicas") or hpas[f"phoenix-{name}"]["spec"]["minReplicas"]
        )
        minimum = budget["spec"]["minAvailable"]
        if isinstance(minimum, int):
            assert minimum < replicas, f"{name}: the budget would block every drain"


# --- network policies ------------------------------------------------------------


def _policies_for(docs: list[Doc], labels: dict[str, str], kind: str) -> list[Doc]:
    return [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if kind in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], labels)
    ]


def _pod_labels(docs: list[Doc], service: str) -> dict[str, str]:
    labels: dict[str, str] = deployments(docs)[service]["spec"]["template"]["metadata"]["labels"]
    return labels


def _ip_blocks(policies: list[Doc]) -> Iterator[Doc]:
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                if "ipBlock" in peer:
                    yield peer["ipBlock"]


def test_every_phoenix_pod_is_denied_by_default(overlay: str) -> None:
    docs = rendered(overlay)
    for service in SERVICES:
        labels = _pod_labels(docs, service)
        for kind in ("Ingress", "Egress"):
            assert _policies_for(docs, labels, kind), (service, kind)


def test_only_executors_and_notifiers_reach_out_and_never_inward(overlay: str) -> None:
    docs = rendered(overlay)
    blocked = {str(n) for n in BLOCKED}
    for service in SERVICES:
        blocks = list(_ip_blocks(_policies_for(docs, _pod_labels(docs, service), "Egress")))
        if service not in ("executor", "notifier"):
            assert not blocks, f"{service} may reach addresses outside the cluster"
            continue
        assert {b["cidr"] for b in blocks} == {"0.0.0.0/0", "::/0"}, service
        excepted: set[str] = set()
        for block in blocks:
            network = ipaddress.ip_network(block["cidr"])
            for cidr in block["except"]:
                assert ipaddress.ip_network(cidr).subnet_of(network), cidr  # type: ignore[arg-type]
            excepted |= set(block["except"])
        missing = MUST_EXCLUDE - excepted
        assert not missing, f"{service} may reach {sorted(missing)}"
        # The same ranges as the application's SSRF guard.
        assert excepted == blocked, sorted(excepted ^ blocked)


def _egress_peers(docs: list[Doc], service: str) -> list[tuple[Doc, list[Doc]]]:
    return [
        (peer, rule.get("ports", []))
        for policy in _policies_for(docs, _pod_labels(docs, service), "Egress")
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
    ]


def test_in_cluster_egress_matches_what_each_service_uses(overlay: str) -> None:
    docs = rendered(overlay)
    for service in SERVICES:
        peers = _egress_peers(docs, service)
        pod_peers = {
            tuple(sorted(p["podSelector"]["matchLabels"].items()))
            for p, _ in peers
            if "podSelector" in p and "namespaceSelector" not in p
        }
        expected: set[tuple[tuple[str, str], ...]] = {
            (("app.kubernetes.io/component", "nats"), ("app.kubernetes.io/name", "nats"))
        }
        if _uses(service, "create_engine"):
            expected.add((("cnpg.io/cluster", "phoenix-db"),))
        if _uses(service, "create_redis"):
            expected.add((("app.kubernetes.io/name", "phoenix-redis"),))
        assert pod_peers == expected, service
        dns = [
            ports
            for p, ports in peers
            if p.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"}
        ]
        assert dns, f"{service} cannot resolve names"
        assert {(q["protocol"], q["port"]) for q in dns[0]} == {("UDP", 53), ("TCP", 53)}


def test_the_gateway_takes_traffic_only_from_the_ingress_controller_and_scrapers(
    overlay: str,
) -> None:
    docs = rendered(overlay)
    for service in SERVICES:
        sources = [
            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for policy in _policies_for(docs, _pod_labels(docs, service), "Ingress")
            for rule in policy["spec"].get("ingress", [])
            for peer in rule["from"]
        ]
        expected = ["monitoring", "ingress-nginx"] if service == "gateway" else ["monitoring"]
        assert sorted(sources) == sorted(expected), service
