"""kill -9 at every step of an order, start again, retry the same id: exactly one deal.

The mt5guard process (crash_child.py) is really killed with SIGKILL; the
simulated trade server keeps its book in a file, as a real server outlives
its clients. The journal (SQLite, WAL) is what the next process starts from.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mt5guard.orders.reconcile import comment_id
from mt5guard.terminal.records import TradeDeal

CHILD = Path(__file__).resolve().parent / "crash_child.py"


def run_child(tmp_path: Path, client_order_id: str, crash_at: str = "",
              other: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MT5GUARD_TEST_CRASH_AT": crash_at, "PYTHONUNBUFFERED": "1",
           "MT5GUARD_TEST_OTHER": other}
    return subprocess.run(
        [sys.executable, str(CHILD), str(tmp_path / "state"), str(tmp_path / "ledger.json"),
         client_order_id],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )


def deals_for(tmp_path: Path, client_order_id: str) -> list[TradeDeal]:
    """The trade server's deals carrying ``client_order_id`` (from its ledger file)."""
    ledger = tmp_path / "ledger.json"
    if not ledger.exists():
        return []
    book = json.loads(ledger.read_text(encoding="utf-8"))
    deals = [TradeDeal(*d) for d in book["deals"]]
    return [d for d in deals if comment_id(d.comment) == client_order_id]


def outcome_of(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    lines = [line for line in done.stdout.splitlines() if line.startswith("OUTCOME ")]
    assert done.returncode == 0 and lines, done.stdout + done.stderr
    result: dict[str, object] = json.loads(lines[0].removeprefix("OUTCOME "))
    return result


@pytest.mark.parametrize("crash_at", ["intent", "send", "reply"])
def test_killed_at_any_step_then_retried_the_id_has_exactly_one_deal(tmp_path: Path,
                                                                     crash_at: str) -> None:
    killed = run_child(tmp_path, "K1", crash_at)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert len(deals_for(tmp_path, "K1")) == (0 if crash_at == "intent" else 1)

    outcome = outcome_of(run_child(tmp_path, "K1"))  # a new process, the same id
    again = outcome_of(run_child(tmp_path, "K1"))  # and once more

    (deal,) = deals_for(tmp_path, "K1")
    assert outcome["deal"] == again["deal"] == deal.ticket
    assert outcome["reconciled"] is (crash_at != "intent")
    assert outcome["volume"] == 0.1


def test_killed_while_an_outcome_is_held_in_memory_the_next_process_reads_it_back(
        tmp_path: Path) -> None:
    killed = run_child(tmp_path, "H1", "held")  # the fill could not be written, then kill -9
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    told = [json.loads(line.removeprefix("OUTCOME ")) for line in killed.stdout.splitlines()
            if line.startswith("OUTCOME ")]
    assert len(told) == 1, killed.stdout + killed.stderr  # the caller got the fill

    outcome = outcome_of(run_child(tmp_path, "H1"))  # the journal still says "sent"
    (deal,) = deals_for(tmp_path, "H1")
    assert told[0]["deal"] == outcome["deal"] == deal.ticket
    assert outcome["reconciled"] is True


def test_killed_after_an_unknown_outcome_that_filled_meanwhile_the_next_process_resolves_it_first(
        tmp_path: Path) -> None:
    killed = run_child(tmp_path, "U1", "late")  # unknown to the caller; fills; kill -9
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert "ERROR MT5OrderOutcomeUnknown" in killed.stdout
    (deal,) = deals_for(tmp_path, "U1")

    after = run_child(tmp_path, "U2", other="U1")  # a new process: another id, then U1 again
    lines = after.stdout.splitlines()
    assert after.returncode == 0, after.stdout + after.stderr
    told = [json.loads(line.removeprefix("OUTCOME ")) for line in lines
            if line.startswith("OUTCOME ")]
    # resolved from the records at start, before this process sent anything (U2 included)
    assert "RECONCILED U1 executed 0" in lines
    assert [(o["client_order_id"], o["reconciled"]) for o in told] == [("U2", False), ("U1", True)]
    assert told[1]["deal"] == deal.ticket
    assert len(deals_for(tmp_path, "U1")) == 1  # the resend made no deal
    assert len(deals_for(tmp_path, "U2")) == 1  # the other id was sent normally
