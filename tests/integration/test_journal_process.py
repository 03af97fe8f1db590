"""run.py refuses an order journal it must not use: one clear line, exit status 2."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
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


def orphan_wal(journal: Path) -> str:
    Path(f"{journal}-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 4000)
    return "database is missing"


def zero_bytes(journal: Path) -> str:
    journal.write_bytes(b"")
    return "empty (0 bytes)"


def unreadable_row(journal: Path) -> str:
    with sqlite3.connect(journal) as conn:
        conn.executescript(
            "CREATE TABLE intents (client_order_id TEXT PRIMARY KEY, kind TEXT, symbol TEXT, "
            "side TEXT, volume REAL, payload TEXT, state TEXT, created_at REAL, sent_at REAL, "
            "finished_at REAL, result TEXT);"
            "INSERT INTO intents VALUES ('X9', 'place', 'EURUSD', 'buy', 0.1, '{cut', 'sent', "
            "0, 0, NULL, NULL); PRAGMA user_version = 1;")
    conn.close()
    return "unreadable row 'X9'"


@pytest.mark.parametrize("damage", [orphan_wal, zero_bytes, unreadable_row],
                         ids=lambda f: f.__name__)
def test_a_damaged_journal_stops_start_up_with_exit_2_naming_the_file_and_the_fix(
        tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path / "run.yaml", default_config())
    journal = tmp_path / "state" / "demo.journal.sqlite3"
    journal.parent.mkdir()
    said = damage(journal)
    with RunPy(config) as run:
        assert run.exit_status(timeout=15) == 2
    lines = [line for line in run.output.splitlines() if line.strip()]
    assert len(lines) == 1, run.output
    assert lines[0].startswith("mt5guard: order journal ") and said in lines[0]
    assert "state/demo.journal.sqlite3" in lines[0]
    assert "restore" in lines[0] or "move it aside" in lines[0]
