"""docs/operations.md and deploy/ stay true to the code: config keys, defaults, metrics, probes."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
import yaml

from mt5guard.config import parse_config, schema_reference
from mt5guard.observability import Metrics

REPO = Path(__file__).resolve().parents[2]
OPERATIONS = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
CONFIG_ROW = re.compile(r"^\| `([a-z_.\[\]]+)` \| ([^|]*) \| (.*) \|$", re.MULTILINE)


def documented_config() -> dict[str, str]:
    """Key -> default, from the config reference table's rows."""
    section = OPERATIONS.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    return {key: default.strip() for key, default, _ in CONFIG_ROW.findall(section)}


def expected_table() -> str:
    return "\n".join(f"| `{key}` | {default} | {doc} |" for key, default, doc in schema_reference())


def test_every_config_key_is_documented_with_its_default() -> None:
    documented = documented_config()
    schema = {key: default for key, default, _ in schema_reference()}
    hint = f"regenerate the table in docs/operations.md:\n{expected_table()}"
    assert sorted(set(schema) - set(documented)) == [], hint
    assert sorted(set(documented) - set(schema)) == [], hint  # no stale keys either
    wrong = {key: (documented[key], default) for key, default in schema.items()
             if documented[key] != default}
    assert wrong == {}, hint


def exposed_names() -> list[str]:
    """Every metric family Metrics() registers, as Prometheus exposes it (counters get _total)."""
    return [
        f"{family.name}_total" if family.type == "counter" else family.name
        for family in Metrics().registry.collect()
    ]


def test_every_metric_is_documented() -> None:
    names = exposed_names()
    assert "mt5guard_breaker_state" in names and "mt5guard_restarts_total" in names
    missing = [name for name in names if f"| `{name}` |" not in OPERATIONS]
    assert missing == [], f"docs/operations.md does not list metrics {missing}"


def test_the_docs_mention_no_metric_that_does_not_exist() -> None:
    names = set(exposed_names())
    mentioned = set(re.findall(r"\bmt5guard_[a-z_]+", OPERATIONS))
    series = re.compile(r"_(bucket|sum|count|created)$")
    unknown = {m for m in mentioned if m not in names and series.sub("", m) not in names}
    assert unknown == set()


def kubernetes_documents() -> dict[str, dict]:
    docs = yaml.safe_load_all((REPO / "deploy" / "kubernetes.yaml").read_text(encoding="utf-8"))
    return {doc["kind"]: doc for doc in docs}


def test_the_kubernetes_config_is_valid_and_its_probes_hit_its_port() -> None:
    manifests = kubernetes_documents()
    raw = yaml.safe_load(manifests["ConfigMap"]["data"]["mt5guard.yaml"])
    config = parse_config(raw, source="deploy/kubernetes.yaml",
                          environ={"MT5_LIVE_PASSWORD": "from-the-secret"})
    assert config.observability.http.host == "0.0.0.0"

    container = manifests["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    (port,) = container["ports"]
    assert port["containerPort"] == config.observability.http.port
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    secret_env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]
                  if "valueFrom" in e}
    assert set(secret_env) == {"MT5_LIVE_PASSWORD"}
    assert container["args"][:2] == ["mt5guard", "run"] and "--config" in container["args"]
    spec = manifests["Deployment"]["spec"]["template"]["spec"]
    assert spec["automountServiceAccountToken"] is False and spec["os"] == {"name": "windows"}
    assert manifests["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1


def test_the_systemd_unit_restarts_on_failure_and_keeps_secrets_out() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(REPO / "deploy" / "mt5guard.service", encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"
    assert service["EnvironmentFile"].startswith("/etc/")
    assert re.fullmatch(r"\S+/bin/mt5guard run --config \S+\.yaml.*", service["ExecStart"])
    assert "PASSWORD" not in (REPO / "deploy" / "mt5guard.service").read_text().split("[Unit]")[1]


@pytest.mark.parametrize("doc", ["operations.md", "testing.md"])
def test_relative_links_in_the_docs_resolve(doc: str) -> None:
    text = (REPO / "docs" / doc).read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)\)", text)
    broken = [t for t in targets if not (REPO / "docs" / t).exists()]
    assert broken == []
