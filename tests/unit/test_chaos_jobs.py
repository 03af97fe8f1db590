"""``make chaos`` across processes: seeds side by side, the same verdicts (issue 21)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from mt5guard.testing.chaos.__main__ import main


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    yield
    logging.disable(logging.NOTSET)  # main() turns logging off for its run, as the CLI must


def test_seeds_run_in_two_processes_report_like_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--seeds", "4", "--days", "0.05", "--accounts", "1", "--jobs", "2"]) == 0
    out, _ = capsys.readouterr()
    assert "4 seeds (0.05 days, 1 accounts): 0 failed" in out


def test_jobs_below_one_is_refused_naming_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--seeds", "1", "--jobs", "0"])
    assert "--jobs must be at least 1, got 0" in capsys.readouterr().err
