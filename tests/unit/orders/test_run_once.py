"""run_once: a script's rows handed back, its verdict enforced, its functions gone after."""

from __future__ import annotations

import sqlite3

import pytest

from mt5guard.orders._run_once import ROW, VALUE, VERDICT, Rows, run_once


def _no_function_left(conn: sqlite3.Connection, key: str = "x") -> None:
    """None of run_once's functions answers once it returned, in any arity (Python 3.11's
    ``create_function(name, n, None)`` leaves one that raises: it holds nothing of ours)."""
    for call in (f"{ROW}('t')", f"{ROW}('t', 1)", f"{ROW}('t', 1, 2)", f"{VERDICT}()",
                 f"{VALUE}('{key}')"):  # a key the script's values held
        with pytest.raises(sqlite3.OperationalError):
            conn.execute(f"SELECT {call}").fetchall()


def test_rows_come_back_by_tag_and_values_read_back_bit_for_bit() -> None:
    conn = sqlite3.connect(":memory:")
    odd = 0.1 + 0.2  # its SQL text would not read back as this float
    rows = run_once(conn, f"""
        CREATE TABLE t (a, b);
        INSERT INTO t VALUES (1, {VALUE}('price')), (2, {VALUE}('name'));
        SELECT {ROW}('t', a, b) FROM t ORDER BY a;
        SELECT {ROW}('count', count(*)) FROM t;
    """, values={"price": odd, "name": "EURUSD"})
    assert rows == {"t": [(1, odd), (2, "EURUSD")], "count": [(2,)]}
    _no_function_left(conn, "price")
    conn.close()


def test_a_verdict_that_refuses_stops_the_script_rolls_back_and_is_raised_itself() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (a)")
    conn.commit()

    class Refused(Exception):
        pass

    def verdict(rows: Rows) -> None:
        if rows.get("t") != [(0,)]:
            raise Refused(f"found {rows.get('t')}")

    with pytest.raises(Refused, match=r"found \[\(1,\)\]"):
        run_once(conn, f"""
            BEGIN;
            INSERT INTO t VALUES (1);
            SELECT {ROW}('t', count(*)) FROM t;
            SELECT {VERDICT}();
            INSERT INTO t VALUES (2);
            COMMIT;
        """, verdict, values={"unused": 1})
    assert not conn.in_transaction
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)  # rolled back, not run on
    _no_function_left(conn, "unused")
    conn.close()


def test_a_script_without_values_registers_no_value_function() -> None:
    conn = sqlite3.connect(":memory:")
    with pytest.raises(sqlite3.OperationalError, match="no such function"):
        run_once(conn, f"SELECT {VALUE}('x');")  # never registered on this connection
    assert run_once(conn, f"SELECT {ROW}('one', 1);") == {"one": [(1,)]}
    _no_function_left(conn)
    conn.close()
