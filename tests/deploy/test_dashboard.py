"""The Grafana dashboard speaks exactly the metric names of phoenix_platform.metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from phoenix_platform import metrics
from prometheus_client.metrics import MetricWrapperBase

from tests.deploy.dockerfile import ROOT

DASHBOARD = ROOT / "infra" / "grafana" / "phoenix-dashboard.json"

# Series prometheus_client always exports, and Prometheus' own per target.
STANDARD = {"up", "process_cpu_seconds_total", "process_resident_memory_bytes"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool"}
KEYWORDS |= {"and", "or", "unless", "offset", "inf", "nan"}


def defined() -> dict[str, set[str]]:
    """Each metric of phoenix_platform.metrics -> the series names it exposes."""
    series: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if not isinstance(value, MetricWrapperBase):
            continue
        for family in value.describe():
            if family.type == "counter":
                series[family.name] = {f"{family.name}_total"}
            elif family.type == "histogram":
                series[family.name] = {f"{family.name}_{s}" for s in ("bucket", "sum", "count")}
            else:
                series[family.name] = {family.name}
    # The followers' gauges, written at scrape time beside the registry.
    text = metrics.follower_text("svc", {"f": {"lag": 1, "applied": 1, "newest": 1}})
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            series[name] = {name}
    return series


def panels(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in node.get("panels", []):
        yield panel
        yield from panels(panel)


def expressions(dashboard: dict[str, Any]) -> list[str]:
    return [
        target["expr"]
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
        if "expr" in target
    ]


def series_in(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # string literals
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\boffset\s+-?\w+", "", text)  # offset 5m
    text = re.sub(r"(?<![\w:.])\d[\w.+-]*", "", text)  # numbers, durations
    text = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text
    )  # grouping labels
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[match.end() :].lstrip()
        if rest.startswith("("):  # a function or aggregation
            continue
        if match.group().lower() in KEYWORDS:
            continue
        names.add(match.group())
    return names


def load() -> dict[str, Any]:
    dashboard = json.loads(DASHBOARD.read_text())
    assert isinstance(dashboard, dict)
    return dashboard


def test_the_reader_finds_metric_names() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, type) (rate(phoenix_x_bucket{a="b(c)"}[5m])))'
        " / on (job) group_left sum without (instance) (up offset 5m) * 1e3 > 0.5"
    )
    assert series_in(expr) == {"phoenix_x_bucket", "up"}


def test_the_dashboard_is_a_grafana_model_with_a_datasource_input() -> None:
    dashboard = load()
    assert dashboard["schemaVersion"] >= 36  # Grafana 9.x+ model, imported by 10+
    assert dashboard["uid"]
    assert dashboard["title"]
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_expression_uses_only_defined_metrics() -> None:
    known = set().union(*defined().values()) | STANDARD
    for expr in expressions(load()):
        found = series_in(expr)
        assert found, expr
        unknown = found - known
        assert not unknown, f"{sorted(unknown)} in {expr}"


def test_every_defined_metric_is_on_the_dashboard() -> None:
    used = set().union(*(series_in(expr) for expr in expressions(load())))
    missing = [name for name, series in defined().items() if not series & used]
    assert not missing, f"no panel shows {missing}"


def test_the_panels_the_operators_asked_for_are_there() -> None:
    titles = " | ".join(panel["title"].lower() for panel in panels(load()))
    for word in (
        "checks per second",
        "check duration",
        "lateness",
        "result to status",
        "status changes",
        "deliveries",
        "delivery duration",
        "lag",
        "requests",
        "5xx",
        "errors",
        "dead-lettered",
        "cpu",
        "memory",
        "leader",
        "partitions",
    ):
        assert word in titles, word
