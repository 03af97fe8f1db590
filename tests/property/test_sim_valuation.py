"""The simulated account's one-pass valuation is the money of its positions one by one.

``Ledger.snapshot`` values a book with open positions in one pass (each quote
and rate read once), and keeps what it found by the prices it read until the
book changes; an account's money must be exactly the floats the plain
arithmetic gives: each position's ``profit`` at its close price, summed, and
each position's ``margin_for``, summed, rounded as before, whatever changed
the book or the prices since.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from mt5guard.terminal import SimulatedTerminal
from mt5guard.terminal import constants as c
from mt5guard.terminal.records import AccountInfo, Tick
from mt5guard.terminal.sim._book import OpenPosition
from mt5guard.terminal.sim._ledger import AccountSnapshot, Ledger
from mt5guard.terminal.sim._snapshots import _account_record
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


# -- the ledger's kept valuations (by the prices the book was valued at) ------------------

_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class _Clock:
    """Moves only when the test says so."""

    def __init__(self) -> None:
        self.elapsed = 0.0

    def now(self) -> datetime:
        return _START + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.elapsed += seconds


def _plain_money(term: SimulatedTerminal) -> AccountSnapshot:
    """The account's money computed afresh, position by position, at this instant."""
    ledger = term._ledger
    with term._state_lock, ledger._one_instant():
        return _by_position(ledger, 0.0)


def _market(symbol: str, volume: float, kind: int, position: int = 0) -> dict[str, object]:
    spec = DEFAULT_SYMBOLS[symbol]
    filling = c.ORDER_FILLING_IOC if spec.filling_mode & c.SYMBOL_FILLING_IOC else c.ORDER_FILLING_FOK
    return {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume, "type": kind,
            "type_filling": filling, "position": position, "comment": "valuation"}


def _apply(term: SimulatedTerminal, clock: _Clock, step: tuple[str, int, int]) -> None:
    """One change of the account, of the prices or of the faults (``a``, ``b``: its dice)."""
    what, a, b = step
    symbols = sorted(DEFAULT_SYMBOLS)
    positions = list(term._ledger.positions.values())
    if what == "advance":
        clock.elapsed += (0.0, 0.25, 1.0, 30.0, 30.0, 30.0, 600.0, 3600.0)[a % 8]
    elif what == "open":
        term.order_send(_market(symbols[a % len(symbols)], (1 + b % 50) / 100,
                                (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL)[b % 2]))
    elif what == "close" and positions:
        pos = positions[a % len(positions)]
        part = round(pos.volume * (1 + b % 4) / 4, 2) or pos.volume
        kind = c.ORDER_TYPE_SELL if pos.type == c.POSITION_TYPE_BUY else c.ORDER_TYPE_BUY
        term.order_send(_market(pos.symbol, part, kind, pos.ticket))
    elif what == "by_hand" and positions:
        term.close_by_hand(positions[a % len(positions)].ticket)
    elif what == "deposit":
        term.book_balance_operation(c.DEAL_TYPE_BALANCE, (a - 50) * 10.5)
    elif what == "pending":
        symbol = symbols[a % len(symbols)]
        tick = term.symbol_info_tick(symbol)
        if tick is not None:
            spec = DEFAULT_SYMBOLS[symbol]
            term.order_send({"action": c.TRADE_ACTION_PENDING, "symbol": symbol, "volume": 0.01,
                             "type": c.ORDER_TYPE_BUY_LIMIT, "type_filling": c.ORDER_FILLING_RETURN,
                             "price": round(tick.ask - (1 + b % 5) * spec.point, spec.digits)})
    elif what == "stale":
        term.stale_quotes(symbols[a % len(symbols)] if b % 2 else None)
    elif what == "fresh":
        term.fresh_quotes()
    elif what == "offline":
        term.server_offline(bool(b % 2))
    elif what == "investor":
        term.investor_login(bool(b % 2))


_steps = st.lists(st.tuples(
    st.sampled_from(["advance"] * 4 + ["open", "open", "close", "by_hand", "deposit", "pending",
                                       "stale", "fresh", "offline", "investor"]),
    st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(steps=_steps, currency=st.sampled_from(["USD", "EUR", "JPY"]),
       leverage=st.sampled_from([30, 100]))
def test_the_kept_valuation_is_the_money_computed_afresh_after_every_change(
    steps: list[tuple[str, int, int]], currency: str, leverage: int,
) -> None:
    clock = _Clock()
    term = SimulatedTerminal(clock, currency=currency, leverage=leverage,  # type: ignore[arg-type]
                             balance=100_000.0)
    assert term.initialize(login=5001, password="x", server="MetaQuotes-Demo")
    for symbol in DEFAULT_SYMBOLS:
        assert term.symbol_select(symbol, True)
    for step in steps:
        _apply(term, clock, step)
        for _ in range(2):  # valued once, and again at the same prices (a kept valuation)
            info = term.account_info()
            assert info is not None
            money = (info.balance, info.profit, info.equity, info.margin, info.margin_free,
                     info.margin_level)
            assert _bits(AccountSnapshot(*money)) == _bits(_plain_money(term)), step
            # and the whole record (a kept one, when the money was kept) is one made afresh
            assert _record_bits(info) == _record_bits(_fresh_record(term)), step


def _fresh_record(term: SimulatedTerminal) -> AccountInfo:
    ledger = term._ledger
    return _account_record(_plain_money(term), ledger.leverage, ledger.currency, term._login,
                           term._server, not term._faults.investor)


def _record_bits(info: AccountInfo) -> list[object]:
    return [struct.pack("<d", v) if isinstance(v, float) else (type(v), v) for v in info]


def test_prices_seen_before_answer_the_valuation_kept_for_them() -> None:
    """The cache is used: a book valued at prices it had before is not valued again."""
    ledger = Ledger(DEFAULT_SYMBOLS, balance=1000.0, currency="USD", leverage=100,
                    quote=_quote({}))  # type: ignore[arg-type]
    ledger.open_position(OpenPosition(1, 0, 0, c.POSITION_TYPE_BUY, 0, 0.1, 1.08, 0.0, 0.0,
                                      "EURUSD", ""))
    first = ledger.snapshot()
    assert ledger.snapshot() is first
    assert ledger.snapshot(0.015) is not first  # a prospective trade's margin: valued
    ledger.book_to_balance(10.0)
    assert ledger.snapshot().balance == 1010.0


def test_the_account_record_is_kept_with_the_money_and_goes_with_it() -> None:
    """An account_info at prices valued before answers the record made then, unless the
    investor fault changed trade_allowed since or the book changed."""
    clock = _Clock()
    term = SimulatedTerminal(clock, balance=100_000.0)  # type: ignore[arg-type]
    assert term.initialize(login=5001, password="x", server="MetaQuotes-Demo")
    assert term.symbol_select("EURUSD", True)
    assert term.order_send(_market("EURUSD", 0.1, c.ORDER_TYPE_BUY)).retcode == c.TRADE_RETCODE_DONE
    first = term.account_info()
    assert first is not None and first.trade_allowed
    assert term.account_info() is first  # kept
    term.investor_login()
    investor = term.account_info()
    assert investor is not None and not investor.trade_allowed
    assert investor[:5] + investor[6:] == first[:5] + first[6:]  # only trade_allowed moved
    assert term.account_info() is investor
    term.investor_login(False)
    again = term.account_info()
    assert again is not None and again.trade_allowed and again == first
    term.book_balance_operation(c.DEAL_TYPE_BALANCE, 10.0)  # the book changed: valued afresh
    deposited = term.account_info()
    assert deposited is not None and deposited.balance == first.balance + 10.0
    assert _record_bits(deposited) == _record_bits(_fresh_record(term))
