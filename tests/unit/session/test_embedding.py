"""Embedding mt5guard in a host pykka engine has no process-wide side effects."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pykka
import pytest

from mt5guard import Config, Guard, start
from mt5guard.config import HttpConfig, ObservabilityConfig
from mt5guard.testing import VirtualClock

REPO = Path(__file__).resolve().parents[3]

# Runs in a fresh interpreter: the test process has imported mt5guard long ago.
# Dependencies are imported first, since prometheus_client registers its
# default collectors when it is imported; what mt5guard does is the difference.
_IMPORT_PROBE = textwrap.dedent(
    """
    import importlib, importlib.util, json, logging, pkgutil, signal, sys, threading
    import attrs, pykka, prometheus_client, yaml

    def snapshot():
        root = logging.getLogger()
        return {
            "root_handlers": [repr(h) for h in root.handlers],
            "root_level": root.level,
            "logging_disabled": logging.root.manager.disable,
            "pykka_logger": [logging.getLogger("pykka").level,
                             [repr(h) for h in logging.getLogger("pykka").handlers]],
            "signals": {s.name: repr(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM)},
            "threads": sorted(t.name for t in threading.enumerate()),
            "excepthooks": [repr(sys.excepthook), repr(threading.excepthook)],
            "prometheus_default_registry": sorted(
                m.name for m in prometheus_client.REGISTRY.collect()),
        }

    before = snapshot()
    locations = importlib.util.find_spec("mt5guard").submodule_search_locations
    modules = ["mt5guard"] + [m.name for m in pkgutil.walk_packages(locations, "mt5guard.")]
    for name in modules:
        importlib.import_module(name)
    after = snapshot()
    print(json.dumps({"before": before, "after": after, "modules": modules,
                      "mt5guard_handlers": [type(h).__name__
                                            for h in logging.getLogger("mt5guard").handlers]}))
    """
)


def test_importing_every_module_changes_nothing_global() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE], cwd=REPO, capture_output=True, text=True, timeout=20
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert len(report["modules"]) > 30  # the walk really found the package
    assert {"mt5guard.cli", "mt5guard.testing", "mt5guard.observability.http"} <= set(
        report["modules"]
    )
    for key, before in report["before"].items():
        assert report["after"][key] == before, key
    assert report["mt5guard_handlers"] == ["NullHandler"]
    assert "MetaTrader5" not in result.stdout  # imported lazily, only for a real terminal


class Host(pykka.ThreadingActor):
    """A host engine actor that starts and stops mt5guard as part of its own work."""

    def __init__(self, config: Config, clock: VirtualClock) -> None:
        super().__init__()
        self.config, self.clock = config, clock
        self.guard: Guard | None = None

    def start_guard(self) -> None:
        self.guard = start(self.config, clock=self.clock)

    def trade(self) -> tuple[float, int]:
        assert self.guard is not None
        session = self.guard.session("demo")
        tick = session.get_price("EURUSD")
        outcome = session.place_order("EURUSD", "buy", 0.1)
        return tick.ask, outcome.retcode

    def stop_guard(self) -> None:
        assert self.guard is not None
        self.guard.stop()


class Bystander(pykka.ThreadingActor):
    """An unrelated actor of the host application."""

    def ping(self) -> str:
        return "pong"


def global_state() -> dict[str, Any]:
    root = logging.getLogger()
    return {
        "root_handlers": list(root.handlers),
        "root_level": root.level,
        "logging_disabled": logging.root.manager.disable,
        "pykka_level": logging.getLogger("pykka").level,
        "mt5guard_handlers": list(logging.getLogger("mt5guard").handlers),
        "signals": {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)},
    }


@pytest.fixture
def host_app(clock: VirtualClock) -> Iterator[tuple[Any, Any]]:
    config = attrs.evolve(
        Config.default(), observability=ObservabilityConfig(http=HttpConfig(enabled=False))
    )
    bystander = Bystander.start()
    host = Host.start(config, clock)
    yield host, bystander
    clock.close()
    host.stop(block=True, timeout=5)
    bystander.stop(block=True, timeout=5)


def new_threads(before: set[threading.Thread], deadline: float) -> list[threading.Thread]:
    """Threads started since ``before`` still alive; waits (bounded) for ending ones to end."""
    while True:
        extra = [t for t in threading.enumerate() if t not in before]
        if not extra or time.monotonic() > deadline:
            return extra
        time.sleep(0.005)


def test_a_tree_started_and_stopped_inside_a_host_actor_leaves_the_host_untouched(
    clock: VirtualClock, host_app: tuple[Any, Any]
) -> None:
    host, bystander = host_app
    proxy = host.proxy()
    state_before = global_state()
    actors_before = set(pykka.ActorRegistry.get_all())
    threads_before = set(threading.enumerate())

    proxy.start_guard().get(timeout=5)
    clock.settle()  # every account connected and probed once
    assert len(pykka.ActorRegistry.get_all()) > len(actors_before)
    ask, retcode = proxy.trade().get(timeout=5)
    assert ask > 0 and retcode == 10009
    proxy.stop_guard().get(timeout=5)

    assert host.is_alive() and bystander.is_alive()
    assert bystander.proxy().ping().get(timeout=5) == "pong"
    assert set(pykka.ActorRegistry.get_all()) == actors_before == {host, bystander}
    assert global_state() == state_before
    assert new_threads(threads_before, deadline=time.monotonic() + 2.0) == []


def test_the_example_engine_runs_and_exits_0(tmp_path: Path) -> None:
    result = subprocess.run(  # in its own folder: it keeps its order journal in ./state
        [sys.executable, str(REPO / "examples" / "embedded_engine.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=20,
    )
    assert result.returncode == 0, result.stderr
    assert "bought 0.1 lots: retcode=10009" in result.stdout
    assert result.stdout.rstrip().endswith("engine stopped")
    assert "Traceback" not in result.stderr
