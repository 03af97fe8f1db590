"""deploy/ stays true to the code: the Grafana dashboard and the StatefulSet example.

The dashboard may only name metrics and labels we export; the StatefulSet's
per-account configs must parse and agree with its containers, ports and probes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mt5guard.config import Config, parse_config
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


# -- deploy/kubernetes-statefulset.yaml: one pod per account -------------------------------

STATEFUL_TEXT = (REPO / "deploy" / "kubernetes-statefulset.yaml").read_text(encoding="utf-8")
STATEFUL: dict[str, dict[str, Any]] = {doc["kind"]: doc for doc in yaml.safe_load_all(STATEFUL_TEXT)}
POD = STATEFUL["StatefulSet"]["spec"]["template"]["spec"]
CONTAINERS = {c["name"]: c for c in POD["containers"]}


def secret_keys() -> set[str]:
    """The keys the header's ``kubectl create secret`` line puts in the Secret."""
    return set(re.findall(r"--from-literal=([A-Z0-9_]+)=", STATEFUL_TEXT))


def account_configs() -> dict[int, Config]:
    """Ordinal -> the parsed config its pod runs, with the Secret's keys as the environment."""
    environ = {key: f"value-of-{key}-{key.encode().hex()}-0123456789abcdef" for key in secret_keys()}
    files = STATEFUL["ConfigMap"]["data"]
    configs: dict[int, Config] = {}
    for name, text in files.items():
        ordinal = re.fullmatch(r"account-(\d+)\.yaml", name)
        assert ordinal, f"ConfigMap key {name!r} is not account-<ordinal>.yaml"
        configs[int(ordinal[1])] = parse_config(yaml.safe_load(text), source=name, environ=environ)
    return configs


def test_every_pod_ordinal_has_exactly_one_account_config() -> None:
    configs = account_configs()
    assert sorted(configs) == list(range(STATEFUL["StatefulSet"]["spec"]["replicas"]))
    assert all(len(config.accounts) == 1 for config in configs.values())
    identities = [(c.accounts[0].terminal.login, c.accounts[0].terminal.server)
                  for c in configs.values()]
    names = [c.accounts[0].name for c in configs.values()]
    assert len(set(identities)) == len(identities) and len(set(names)) == len(names)


def test_the_mt5guard_container_runs_its_ordinals_config() -> None:
    mt5guard = CONTAINERS["mt5guard"]
    config_arg = mt5guard["args"][mt5guard["args"].index("--config") + 1]
    mount = next(m for m in mt5guard["volumeMounts"] if m["name"] == "config")
    assert config_arg == f"{mount['mountPath']}/account-$(POD_INDEX).yaml"
    (index,) = [e for e in mt5guard["env"] if e["name"] == "POD_INDEX"]
    assert index["valueFrom"]["fieldRef"]["fieldPath"] == (
        "metadata.labels['apps.kubernetes.io/pod-index']")
    assert mt5guard["args"][:2] == ["mt5guard", "run"]
    state = next(m for m in mt5guard["volumeMounts"] if m["name"] == "state")
    assert mt5guard["args"][mt5guard["args"].index("--state-dir") + 1] == state["mountPath"]
    claims = {c["metadata"]["name"] for c in STATEFUL["StatefulSet"]["spec"]["volumeClaimTemplates"]}
    assert "state" in claims  # the journal outlives the pod, so an id is never sent twice


def test_the_pod_is_restricted_and_gets_no_service_account_token() -> None:
    assert POD["automountServiceAccountToken"] is False
    pod = POD["securityContext"]
    assert pod["runAsNonRoot"] and pod["runAsUser"] >= 10000
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    for name, container in CONTAINERS.items():
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["capabilities"] == {"drop": ["ALL"]}, name
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert any(m["mountPath"] == "/tmp" for m in container["volumeMounts"]), name


def test_drains_take_one_account_at_a_time() -> None:
    budget = STATEFUL["PodDisruptionBudget"]["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"] == STATEFUL["StatefulSet"]["spec"]["selector"]


def test_each_account_reaches_its_pods_terminal_server_over_loopback() -> None:
    terminal = CONTAINERS["terminal"]
    args = terminal["args"]
    assert args[:3] == ["python", "-m", "mt5guard.terminal.bridge.server"]
    host, port = args[args.index("--listen") + 1].rsplit(":", 1)
    assert host == "127.0.0.1"
    for config in account_configs().values():
        term = config.accounts[0].terminal
        assert (term.kind, term.host, term.port) == ("bridge", "127.0.0.1", int(port))
    key_env = {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in terminal["env"]}
    assert key_env == {"MT5GUARD_BRIDGE_KEY": "MT5GUARD_BRIDGE_KEY"}


def test_probes_hit_the_health_endpoint_every_config_binds() -> None:
    mt5guard = CONTAINERS["mt5guard"]
    (port,) = mt5guard["ports"]
    assert mt5guard["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}
    assert mt5guard["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}
    for config in account_configs().values():
        http = config.observability.http
        assert (http.host, http.port) == ("0.0.0.0", port["containerPort"])
    annotations = STATEFUL["StatefulSet"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(port["containerPort"])
    (rule,) = STATEFUL["NetworkPolicy"]["spec"]["ingress"]
    assert rule["ports"] == [{"port": port["containerPort"], "protocol": "TCP"}]


def test_secrets_come_only_from_the_secret_through_the_environment() -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)\}", "".join(STATEFUL["ConfigMap"]["data"].values())))
    assert used == secret_keys()
    (source,) = CONTAINERS["mt5guard"]["envFrom"]
    assert source == {"secretRef": {"name": "mt5guard-accounts"}}
    assert "password:" not in STATEFUL_TEXT.replace("password: ${", "")


def test_the_manifest_names_no_metric_we_do_not_export() -> None:
    exported = exported_labels()
    assert [m for m in METRIC.findall(STATEFUL_TEXT) if m not in exported] == []
