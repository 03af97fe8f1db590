"""The chaos runner: seeds pass, replay exactly, and a planted bug is caught and shrunk."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from mt5guard.actors.session import SessionActor
from mt5guard.testing.chaos import KINDS, Fault, draw_schedule, run, shrink
from mt5guard.testing.chaos.__main__ import main


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    logging.disable(logging.CRITICAL)  # chaos crashes sessions on purpose
    yield
    logging.disable(logging.NOTSET)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_few_seeds_break_no_invariant(seed: int) -> None:
    result = run(seed, days=1.0, accounts=2)
    assert result.schedule, "every seed draws faults"
    assert result.violations == ()


def test_a_seed_replays_the_same_event_log(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--replay", "5", "--days", "0.5", "--accounts", "2"]) == 0
    assert "identical" in capsys.readouterr().out


def test_schedules_draw_every_kind_of_fault_and_depend_on_the_seed() -> None:
    kinds = {f.kind for seed in range(5) for f in draw_schedule(seed, ["a", "b"], 2.0)}
    assert kinds == set(KINDS)
    assert draw_schedule(1, ["a"], 2.0) == draw_schedule(1, ["a"], 2.0) != draw_schedule(2, ["a"], 2.0)


def test_a_session_that_ignores_its_breaker_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SessionActor, "_admit", lambda self, operation: None)
    outage = (Fault(600.0, "acct0", "auth_revoked", 1800.0),)
    result = run(3, days=0.5, accounts=1, schedule=outage)
    assert any("reached the terminal" in v and "OPEN" in v for v in result.violations)


def test_shrinking_keeps_only_the_faults_that_matter() -> None:
    schedule = tuple(Fault(float(i), "a", "link_down", 1.0) for i in range(16))
    culprits = {schedule[3], schedule[11]}
    small = shrink(schedule, lambda s: culprits <= set(s))
    assert set(small) == culprits
