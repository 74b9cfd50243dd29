"""The README and docs/metrics.md stay true to the code."""

from __future__ import annotations

from pathlib import Path

from phoenix_cli.config_table import rows

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_the_readme_lists_every_setting_with_its_default() -> None:
    for variable, users, default, meaning in rows():
        assert f"| `{variable}` | {users} | `{default}` | {meaning} |" in README, variable


def test_the_readme_shows_the_two_commands() -> None:
    assert "uv run phoenix dev" in README
    assert "uv run pytest" in README


def test_the_metrics_doc_lists_every_metric() -> None:
    from phoenix_platform import metrics
    from prometheus_client.metrics import MetricWrapperBase

    doc = (Path(__file__).resolve().parents[1] / "docs" / "metrics.md").read_text()
    names = [name for name, _, _ in metrics._FOLLOWER]
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            [family] = metric.describe()
            names.append(family.name + ("_total" if family.type == "counter" else ""))
    assert len(names) > 20
    for name in names:
        assert f"| `{name}` |" in doc, name
