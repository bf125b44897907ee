"""The alert rules and the Grafana dashboard in deploy/ ask only for series Gotong exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from shared import metrics

pytestmark = pytest.mark.unit
DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
SERIES = re.compile(r"\bgotong_[a-z_]+\b")


def exposed() -> set[str]:
    """Every series name /metrics can show: the process's counters and histograms, and the measured lags."""
    names: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, metrics.Counter):
            names |= {f"{value._name}_total", f"{value._name}_created"}
        elif isinstance(value, metrics.Histogram):
            names |= {f"{value._name}_{suffix}" for suffix in ("bucket", "count", "sum", "created")}
    for family in metrics._families(SimpleNamespace(relays={}, consumers=[])).values():  # type: ignore[arg-type]
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    return names


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((DEPLOY / "alerts.yaml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_alert_watches_series_gotong_exposes() -> None:
    known = exposed()
    for rule in rules():
        used = set(SERIES.findall(rule["expr"]))
        assert used, rule["alert"]
        assert used <= known, f"{rule['alert']} asks for {used - known}"
        assert rule["for"] and rule["labels"]["severity"] in ("page", "warn")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_the_alerts_cover_lags_dead_letters_and_redelivery_storms() -> None:
    watched = {series for rule in rules() for series in SERIES.findall(rule["expr"])}
    for series in (
        "gotong_relay_lag_seconds",
        "gotong_projection_lag_events",
        "gotong_dead_letters",
        "gotong_consumer_redelivered_messages",
        "gotong_consumer_handler_failures_total",
    ):
        assert series in watched


def test_the_dashboard_charts_every_family() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    charted = {
        series for panel in dashboard["panels"] for t in panel["targets"] for series in SERIES.findall(t["expr"])
    }
    assert charted <= exposed(), charted - exposed()
    families = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in charted}
    every = {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in exposed()}
    assert every == families, every - families
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(dashboard["panels"])
