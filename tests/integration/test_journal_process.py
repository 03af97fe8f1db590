"""run.py refuses an order journal it must not use: one clear line, exit status 2."""

from __future__ import annotations

from pathlib import Path

from process_kit import RunPy, default_config, write_config


def test_a_corrupt_journal_stops_start_up_with_one_line_and_status_2(tmp_path: Path) -> None:
    config = write_config(tmp_path / "run.yaml", default_config())
    journal = tmp_path / "state" / "demo2.journal.sqlite3"
    journal.parent.mkdir()
    journal.write_bytes(b"this is not a database" * 100)
    with RunPy(config) as run:
        assert run.exit_status(timeout=15) == 2
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert len(lines) == 1, run.output
    assert lines[0].startswith("mt5guard: order journal ") and "corrupt" in lines[0]
    assert journal.read_bytes().startswith(b"this is not a database")  # never replaced
    assert not (tmp_path / "state" / "demo.journal.sqlite3-wal").exists()


def test_a_second_process_on_the_same_accounts_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path / "run.yaml", default_config())
    with RunPy(config) as first:
        first.wait_for(r"account demo: connected")
        second_config = write_config(tmp_path / "again.yaml", default_config())
        with RunPy(second_config) as second:
            assert second.exit_status(timeout=15) == 2
        assert "in use by another mt5guard process" in second.output
        assert first.proc.poll() is None  # the first one keeps running
