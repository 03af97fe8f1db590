"""deploy/ stays true to the code: the Grafana dashboard only names metrics and labels we export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from mt5guard.observability import Metrics

REPO = Path(__file__).resolve().parents[2]
DASHBOARD: dict[str, Any] = json.loads(
    (REPO / "deploy" / "grafana-dashboard.json").read_text(encoding="utf-8"))
SERIES_SUFFIX = re.compile(r"_(bucket|sum|count|created)$")
METRIC = re.compile(r"\bmt5guard_[a-z_]+")
SELECTOR = re.compile(r"\b(mt5guard_[a-z_]+)\{([^}]*)\}")
GROUPING = re.compile(r"\bby \(([^)]*)\)")


def exported_labels() -> dict[str, set[str]]:
    """Every series name /metrics can show -> its label names (histograms add ``le``)."""
    registry = Metrics().registry
    labels: dict[str, set[str]] = {}
    for name, collector in registry._names_to_collectors.items():  # private, but the only map
        names = set(collector._labelnames)
        labels[name] = names | ({"le"} if name.endswith("_bucket") else set())
    return labels


def queries() -> list[tuple[str, str]]:
    """(panel title, PromQL) of every panel target and templating query."""
    found = [(panel["title"], target["expr"]) for panel in DASHBOARD["panels"]
             for target in panel["targets"]]
    found += [(f"variable {v['name']}", v["definition"]) for v in DASHBOARD["templating"]["list"]
              if "definition" in v]
    return found


def test_every_metric_the_dashboard_names_is_one_we_export() -> None:
    exported = exported_labels()
    named = {m for _, expr in queries() for m in METRIC.findall(expr)}
    unknown = sorted(m for m in named if m not in exported)
    assert named and unknown == [], f"the dashboard names metrics /metrics never shows: {unknown}"


@pytest.mark.parametrize(("title", "expr"), queries())
def test_every_label_a_query_selects_or_groups_by_exists(title: str, expr: str) -> None:
    exported = exported_labels()
    metrics = set(METRIC.findall(expr))
    allowed = set.union(*(exported.get(m, set()) for m in metrics))
    selected = {pair.split("=")[0].strip().rstrip("!~") for _, body in SELECTOR.findall(expr)
                for pair in body.split(",") if pair.strip()}
    grouped = {label.strip() for group in GROUPING.findall(expr) for label in group.split(",")}
    assert (selected | grouped) - allowed == set(), f"{title}: {expr}"


def test_it_shows_breaker_health_restarts_and_latency_per_account() -> None:
    by_metric: dict[str, str] = {}
    for _, expr in queries():
        for metric in METRIC.findall(expr):
            by_metric.setdefault(SERIES_SUFFIX.sub("", metric), expr)
    for metric in ("mt5guard_breaker_state", "mt5guard_health_status",
                   "mt5guard_request_latency_seconds"):
        assert 'account=~"$account"' in by_metric[metric], metric
    assert 'supervisor=~"account:$account"' in by_metric["mt5guard_restarts_total"]
    variable = next(v for v in DASHBOARD["templating"]["list"] if v["name"] == "account")
    assert variable["multi"] and variable["includeAll"]
