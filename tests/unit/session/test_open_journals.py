"""A tree's journals are opened several at once: all of them, or none and the first refusal."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mt5guard.config import AccountConfig, Config, OrdersConfig, TerminalConfig
from mt5guard.orders.journal import JournalUnavailable, OrderJournal, journal_path
from mt5guard.session._account_tree import OPENERS, open_journals

N = 3 * OPENERS + 1  # every opener thread opens several


def config(state_dir: Path, n: int = N) -> Config:
    return Config(
        accounts=tuple(AccountConfig(name=f"acc{i:02d}",
                                     terminal=TerminalConfig(login=100 + i, server="Demo"),
                                     symbols=("EURUSD",))
                       for i in range(n)),
        orders=OrdersConfig(state_dir=str(state_dir)),
    )


def test_every_account_gets_its_own_journal_in_the_config_order(tmp_path: Path) -> None:
    journals = open_journals(config(tmp_path))
    try:
        assert list(journals) == [f"acc{i:02d}" for i in range(N)]
        for name, journal in journals.items():
            assert journal.path == journal_path(str(tmp_path), name)
    finally:
        for journal in journals.values():
            journal.close()


@pytest.mark.parametrize("refused", [(1, N - 1), (N - 1, 1), (OPENERS, OPENERS + 1)])
def test_the_first_refused_account_in_the_config_is_named_and_none_stays_open(
        tmp_path: Path, refused: tuple[int, int]) -> None:
    for i in refused:
        Path(journal_path(str(tmp_path), f"acc{i:02d}")).write_bytes(b"")  # refused: 0 bytes
    first = min(refused)
    with pytest.raises(JournalUnavailable, match=f"acc{first:02d}.journal.sqlite3: the file is empty"):
        open_journals(config(tmp_path))
    for i in range(N):  # each lock was released: this process may open every good one again
        if i not in refused:
            OrderJournal.open(journal_path(str(tmp_path), f"acc{i:02d}")).close()


def test_one_account_and_journals_in_memory_open_too(tmp_path: Path) -> None:
    one = open_journals(config(tmp_path, 1))
    assert list(one) == ["acc00"]
    one["acc00"].close()
    memory = Config(accounts=config(tmp_path, 2).accounts, orders=OrdersConfig(state_dir=":memory:"))
    journals = open_journals(memory)
    assert [j.path for j in journals.values()] == [":memory:", ":memory:"]
    for journal in journals.values():
        journal.close()


def test_work_given_to_do_meanwhile_runs_on_the_calling_thread_while_they_open(
        tmp_path: Path) -> None:
    # start() builds the terminals there while SQLite opens the files (issue 21).
    ran: list[threading.Thread] = []
    journals = open_journals(config(tmp_path), meanwhile=lambda: ran.append(threading.current_thread()))
    try:
        assert ran == [threading.current_thread()]
        assert list(journals) == [f"acc{i:02d}" for i in range(N)]
    finally:
        for journal in journals.values():
            journal.close()


def test_what_the_meanwhile_work_raises_is_raised_with_every_journal_closed(tmp_path: Path) -> None:
    def fails() -> None:
        raise ValueError("no terminal for acc03")

    with pytest.raises(ValueError, match="no terminal for acc03"):
        open_journals(config(tmp_path), meanwhile=fails)
    for i in range(N):  # not one lock kept
        OrderJournal.open(journal_path(str(tmp_path), f"acc{i:02d}")).close()


def test_a_refused_journal_is_raised_before_what_the_meanwhile_work_raised(tmp_path: Path) -> None:
    Path(journal_path(str(tmp_path), "acc02")).write_bytes(b"")

    def fails() -> None:
        raise ValueError("no terminal")

    with pytest.raises(JournalUnavailable, match=r"acc02\.journal\.sqlite3: the file is empty"):
        open_journals(config(tmp_path), meanwhile=fails)
