"""SQL run once, without leaving its statements prepared in the connection (issue 21).

Python's ``sqlite3`` keeps every statement that ``execute`` ran prepared in
the connection's statement cache (about 1.5 KiB of SQLite memory each) until
newer ones push it out, and offers no way to drop one. A journal's open
checks run once in its life, so after an open eight of them sat there for
the account's life. ``executescript`` prepares, runs and finalizes each
statement and caches none, but returns no rows: :func:`run_once` runs a
script whose statements hand the rows they want back to a function.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["ROW", "VALUE", "VERDICT", "Rows", "run_once"]

#: ``SELECT mt5guard_row('tag', a, b) FROM ..`` hands the row ``(a, b)`` back under ``tag``.
ROW = "mt5guard_row"
#: ``SELECT mt5guard_verdict()`` calls the verdict on the rows handed back so far; what it
#: raises stops the script (a transaction the script began is rolled back) and is re-raised.
VERDICT = "mt5guard_verdict"

#: ``mt5guard_value('name')`` is ``values['name']``: a script takes no parameters, and a
#: float written as SQL text might not read back bit for bit.
VALUE = "mt5guard_value"

#: Rows handed back, by tag, in the order SQLite produced them.
Rows = dict[str, list[tuple[Any, ...]]]


def run_once(conn: sqlite3.Connection, script: str,
             verdict: Callable[[Rows], None] | None = None, *,
             values: Mapping[str, float | int | str | None] | None = None) -> Rows:
    """Run ``script`` on ``conn`` and return the rows its statements handed to :data:`ROW`.

    No statement is left in ``conn``'s statement cache. As with
    ``executescript``, a transaction open when this is called is committed
    first; one the script began is rolled back if the script fails. The
    functions are registered only while the script runs.
    """
    rows: Rows = {}
    refused: list[BaseException] = []

    def row(tag: str, *values: Any) -> None:
        rows.setdefault(tag, []).append(values)

    def check() -> None:
        try:
            if verdict is not None:
                verdict(rows)
        except BaseException as exc:
            refused.append(exc)  # sqlite3 turns it into "user-defined function raised exception"
            raise

    conn.create_function(ROW, -1, row)
    conn.create_function(VERDICT, 0, check)
    if values is not None:
        conn.create_function(VALUE, 1, values.__getitem__)
    try:
        conn.executescript(script)
    except BaseException as exc:
        if conn.in_transaction:
            conn.rollback()
        if refused and isinstance(exc, sqlite3.Error):
            raise refused[0] from None
        raise
    finally:
        conn.create_function(ROW, -1, None)
        conn.create_function(VERDICT, 0, None)
        if values is not None:
            conn.create_function(VALUE, 1, None)
    return rows
