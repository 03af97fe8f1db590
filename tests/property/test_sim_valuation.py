"""The simulated account's one-pass valuation is the money of its positions one by one.

``Ledger.snapshot`` values a book with open positions in one pass (each quote
and rate read once, the rounding inlined); an account's money must be exactly
the floats the plain arithmetic gives: each position's ``profit`` at its close
price, summed, and each position's ``margin_for``, summed, rounded as before.
"""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import Tick
from mt5guard.terminal.sim._book import OpenPosition
from mt5guard.terminal.sim._ledger import AccountSnapshot, Ledger
from mt5guard.terminal.sim.symbols import DEFAULT_SYMBOLS

_BIDS = {"EURUSD": 1.08512, "GBPUSD": 1.26477, "USDJPY": 151.482, "XAUUSD": 2349.87}


def _quote(moves: dict[str, int]) -> object:
    def quote(symbol: str) -> Tick:
        spec = DEFAULT_SYMBOLS[symbol]
        bid = round(_BIDS[symbol] + moves.get(symbol, 0) * spec.point, spec.digits)
        ask = round(bid + spec.spread * spec.point, spec.digits)
        return Tick(1_700_000_000, bid, ask, 0.0, 0, 1_700_000_000_000, 6, 0.0)
    return quote


def _by_position(ledger: Ledger, extra_margin: float) -> AccountSnapshot:
    """The money as the per-position methods make it (what the one pass must equal)."""
    positions = list(ledger.positions.values())
    profit = round(sum([ledger.profit(p, ledger.close_price(p), p.volume) for p in positions],
                       0.0), 2)
    equity = round(ledger.balance + profit, 2)
    margin = round(sum([ledger.margin_for(p.symbol, p.volume) for p in positions], 0.0)
                   + extra_margin, 2)
    level = round(equity / margin * 100, 2) if margin > 0 else 0.0
    return AccountSnapshot(ledger.balance, profit, equity, margin, round(equity - margin, 2),
                           level)


def _bits(snapshot: AccountSnapshot) -> list[bytes]:
    return [struct.pack("<d", value) for value in snapshot]


_position = st.tuples(
    st.sampled_from(sorted(DEFAULT_SYMBOLS)),
    st.sampled_from([c.POSITION_TYPE_BUY, c.POSITION_TYPE_SELL]),
    st.integers(1, 5000).map(lambda lots: lots / 100),  # 0.01 .. 50 lots
    st.integers(-3000, 3000),  # opened this many points from today's bid
)


@settings(max_examples=400, deadline=None)
@given(
    positions=st.lists(_position, min_size=1, max_size=12),
    currency=st.sampled_from(["USD", "EUR", "JPY", "CHF"]),
    leverage=st.sampled_from([1, 30, 100, 500]),
    balance=st.integers(0, 10**9).map(lambda cents: cents / 100),
    moves=st.dictionaries(st.sampled_from(sorted(DEFAULT_SYMBOLS)), st.integers(-500, 500)),
    extra_margin=st.sampled_from([0.0, 1085.0, 0.015]),
)
def test_one_pass_gives_the_floats_of_each_position(
    positions: list[tuple[str, int, float, int]], currency: str, leverage: int,
    balance: float, moves: dict[str, int], extra_margin: float,
) -> None:
    ledger = Ledger(DEFAULT_SYMBOLS, balance=balance, currency=currency, leverage=leverage,
                    quote=_quote(moves))  # type: ignore[arg-type]
    for ticket, (symbol, kind, volume, points) in enumerate(positions, start=1):
        spec = DEFAULT_SYMBOLS[symbol]
        price = round(_BIDS[symbol] + points * spec.point, spec.digits)
        ledger.positions[ticket] = OpenPosition(ticket, 0, 0, kind, 0, volume, price, 0.0, 0.0,
                                                symbol, "")
    assert _bits(ledger.snapshot(extra_margin)) == _bits(_by_position(ledger, extra_margin))
    assert _bits(ledger.snapshot()) == _bits(_by_position(ledger, 0.0))  # valued again: the same
