"""SimulatedTerminal: behaves like the MetaTrader5 module, in simulated time, with faults."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mt5guard.terminal import (
    ConcurrentCallError,
    SimulatedTerminal,
    SymbolSpec,
    Terminal,
)
from mt5guard.terminal import constants as c
from mt5guard.terminal.records import (
    AccountInfo,
    OrderSendResult,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)

PASSWORD = "s3cret-pw"
NO_IPC = (-10004, "No IPC connection")
IPC_TIMEOUT = (-10005, "IPC timeout")
AUTH_FAILED = (-6, "Terminal: Authorization failed")
NOT_FOUND = (-4, "Terminal: Not found")
OK = (1, "Success")
START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


class FakeClock:
    """Moves only when told; ``sleep`` advances it (a blocking call costs clock time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._elapsed = 0.0

    def now(self) -> datetime:
        return START + timedelta(seconds=self._elapsed)

    def monotonic(self) -> float:
        return 500.0 + self._elapsed

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._elapsed += seconds

    def call_later(self, delay: float, callback: Any) -> Any:
        raise AssertionError("the simulated terminal must not schedule timers")

    def attach_actor(self, actor: Any) -> None:
        return None


class BlockingClock(FakeClock):
    """A clock whose ``sleep`` blocks the caller until the test releases it."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeping = threading.Event()
        self.release = threading.Event()

    def sleep(self, seconds: float) -> None:
        self.sleeping.set()
        assert self.release.wait(5.0)
        self.advance(seconds)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


def connect(term: SimulatedTerminal, *symbols: str) -> None:
    assert term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    for symbol in symbols or ("EURUSD",):
        assert term.symbol_select(symbol, True)


@pytest.fixture
def term(fake_clock: FakeClock) -> SimulatedTerminal:
    terminal = SimulatedTerminal(fake_clock, password=PASSWORD)
    connect(terminal, "EURUSD", "USDJPY", "XAUUSD")
    return terminal


def buy(symbol: str = "EURUSD", volume: float = 0.1, **extra: Any) -> dict[str, Any]:
    return {"action": c.TRADE_ACTION_DEAL, "symbol": symbol, "volume": volume,
            "type": c.ORDER_TYPE_BUY, "comment": "mg-c1", "magic": 77, **extra}


def sell(symbol: str = "EURUSD", volume: float = 0.1, **extra: Any) -> dict[str, Any]:
    return {**buy(symbol, volume, **extra), "type": c.ORDER_TYPE_SELL}


def filled(result: OrderSendResult | None) -> OrderSendResult:
    assert result is not None and result.retcode == c.TRADE_RETCODE_DONE, result
    return result


# -- connection and identity --------------------------------------------------


def test_before_initialize_every_call_fails_with_no_ipc(fake_clock: FakeClock) -> None:
    t = SimulatedTerminal(fake_clock)
    assert isinstance(t, Terminal)
    assert t.account_info() is None and t.last_error() == NO_IPC
    assert t.symbol_select("EURUSD", True) is False and t.last_error() == NO_IPC
    assert t.version() is None and t.terminal_info() is None
    assert t.positions_get() is None and t.order_send(buy()) is None
    assert t.last_error() == NO_IPC


def test_initialize_checks_credentials_and_success_resets_last_error(fake_clock: FakeClock) -> None:
    t = SimulatedTerminal(fake_clock, password=PASSWORD)
    wrong = [(5001, "nope", "MetaQuotes-Demo"), (9, PASSWORD, "MetaQuotes-Demo"),
             (5001, PASSWORD, "Other-Server")]
    for login, password, server in wrong:
        assert t.initialize(login=login, password=password, server=server) is False
        assert t.last_error() == AUTH_FAILED and not t.connected
    assert t.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo") is True
    assert t.last_error() == OK and t.connected
    assert t.version() == (500, 5120, "20 Jun 2025")


def test_no_password_configured_accepts_any(fake_clock: FakeClock) -> None:
    t = SimulatedTerminal(fake_clock)
    assert t.initialize(login=5001, password="anything", server="MetaQuotes-Demo")


def test_bad_initialize_arguments_are_invalid_params(fake_clock: FakeClock) -> None:
    t = SimulatedTerminal(fake_clock)
    assert not t.initialize(login="5001", password="x", server="MetaQuotes-Demo")  # type: ignore[arg-type]
    assert t.last_error() == (-2, 'Invalid "login" argument')


def test_login_switches_account_with_the_same_checks(term: SimulatedTerminal) -> None:
    assert term.login(5001, password="wrong", server="MetaQuotes-Demo") is False
    assert term.last_error() == AUTH_FAILED
    assert term.account_info() is None and term.last_error() == AUTH_FAILED
    assert term.login(5001, password=PASSWORD, server="MetaQuotes-Demo") is True
    assert term.account_info() is not None


def test_shutdown_closes_the_connection(term: SimulatedTerminal) -> None:
    assert term.shutdown() is True
    assert term.symbol_info_tick("EURUSD") is None and term.last_error() == NO_IPC


def test_records_have_the_real_field_order(term: SimulatedTerminal) -> None:
    account = term.account_info()
    assert account is not None and len(AccountInfo._fields) == 28
    assert AccountInfo._fields[:10] == ("login", "trade_mode", "leverage", "limit_orders",
        "margin_so_mode", "trade_allowed", "trade_expert", "margin_mode", "currency_digits",
        "fifo_close")
    assert AccountInfo._fields[-4:] == ("name", "server", "currency", "company")
    info = term.terminal_info()
    assert info is not None and info.connected and len(TerminalInfo._fields) == 22
    assert TerminalInfo._fields[13] == "ping_last" and TerminalInfo._fields[-1] == "commondata_path"
    assert Tick._fields == ("time", "bid", "ask", "last", "volume", "time_msc", "flags",
                            "volume_real")
    assert OrderSendResult._fields == ("retcode", "deal", "order", "volume", "price", "bid", "ask",
        "comment", "request_id", "retcode_external", "request")
    assert TradeOrder._fields[:6] == ("ticket", "time_setup", "time_setup_msc", "time_done",
                                      "time_done_msc", "time_expiration")
    assert TradePosition._fields[7] == "identifier" and len(TradePosition._fields) == 19
    assert TradeDeal._fields[4:9] == ("type", "entry", "magic", "position_id", "reason")


def test_account_is_a_plausible_demo_account(term: SimulatedTerminal) -> None:
    a = term.account_info()
    assert a is not None
    assert (a.login, a.server, a.currency, a.leverage) == (5001, "MetaQuotes-Demo", "USD", 100)
    assert a.balance == a.equity == a.margin_free == 10_000.0 and a.margin == 0.0
    assert a.trade_mode == c.ACCOUNT_TRADE_MODE_DEMO
    assert a.margin_mode == c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING


# -- quotes -------------------------------------------------------------------


def test_unknown_and_unselected_symbols_are_not_found(term: SimulatedTerminal) -> None:
    assert term.symbol_select("NOPE", True) is False and term.last_error() == NOT_FOUND
    assert term.symbol_info_tick("GBPUSD") is None and term.last_error() == NOT_FOUND
    assert term.symbol_info("GBPUSD") is None and term.last_error() == NOT_FOUND
    assert term.symbol_select("GBPUSD", True) and term.symbol_info_tick("GBPUSD") is not None
    assert term.symbol_select("GBPUSD", False)
    assert term.symbol_info_tick("GBPUSD") is None


def test_ticks_move_with_the_clock_and_never_go_back(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    seen = []
    for _ in range(40):
        tick = term.symbol_info_tick("EURUSD")
        assert tick is not None and tick.bid < tick.ask
        assert tick.flags == c.TICK_FLAG_BID | c.TICK_FLAG_ASK
        assert tick.time == tick.time_msc // 1000
        assert round(tick.bid, 5) == tick.bid
        seen.append(tick)
        fake_clock.advance(0.3)
    stamps = [t.time_msc for t in seen]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert len({t.bid for t in seen}) > 5


def test_a_new_tick_every_quarter_second(term: SimulatedTerminal, fake_clock: FakeClock) -> None:
    first = term.symbol_info_tick("EURUSD")
    fake_clock.advance(0.1)
    assert term.symbol_info_tick("EURUSD") == first
    fake_clock.advance(0.15)
    second = term.symbol_info_tick("EURUSD")
    assert second is not None and first is not None and second.time_msc == first.time_msc + 250


def test_quotes_are_deterministic_per_seed(fake_clock: FakeClock) -> None:
    def walk(seed: int) -> list[float]:
        clock = FakeClock()
        t = SimulatedTerminal(clock, seed=seed)
        connect(t)
        out = []
        for _ in range(20):
            clock.advance(1.0)
            tick = t.symbol_info_tick("EURUSD")
            assert tick is not None
            out.append(tick.bid)
        return out

    assert walk(3) == walk(3) != walk(4)


def test_long_clock_jumps_stay_cheap_and_sane(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    fake_clock.advance(48 * 3600)
    tick = term.symbol_info_tick("USDJPY")
    assert (
        tick is not None and 0 < tick.bid < tick.ask and tick.ask - tick.bid == pytest.approx(0.012)
    )


def test_symbol_info_specifications(term: SimulatedTerminal) -> None:
    expected = {"EURUSD": 5, "USDJPY": 3, "XAUUSD": 2}
    for name, digits in expected.items():
        info = term.symbol_info(name)
        assert info is not None and info.name == name and info.digits == digits
        assert (info.volume_min, info.volume_max, info.volume_step) == (0.01, 100.0, 0.01)
        assert info.point == pytest.approx(10.0**-digits) and info.bid < info.ask
        assert info.trade_stops_level > 0 and info.visible
    gold = term.symbol_info("XAUUSD")
    assert gold is not None and gold.trade_contract_size == 100.0


# -- order_check ----------------------------------------------------------------


def test_order_check_passes_with_retcode_zero(term: SimulatedTerminal) -> None:
    check = term.order_check(buy(volume=1.0))
    assert check is not None and (check.retcode, check.comment) == (0, "Done")
    assert check.balance == 10_000.0 and check.margin > 1000  # 1 lot EURUSD at 1:100
    assert check.margin_free == pytest.approx(check.equity - check.margin)
    assert term.positions_get() == ()


@pytest.mark.parametrize(
    ("request_", "field"),
    [({**buy(), "volume": "0.1"}, "volume"), ({**buy(), "volume": None}, "volume"),
     ({**buy(), "volume": 1}, "volume"), ({**buy(), "price": 1}, "price"),
     ({**buy(), "sl": True}, "sl"), ({**buy(), "type": "0"}, "type"),
     ({**buy(), "magic": 1.0}, "magic"), ({**buy(), "symbol": 5}, "symbol"),
     ({**buy(), "comment": "x" * 30}, "comment"), ({**buy(), "symbol": "E" * 30}, "symbol"),
     ({**buy(), "comment": "\U0001F600" * 15}, "comment"),
     ({**buy(), "expiration": datetime(2030, 1, 1, tzinfo=UTC)}, "expiration")],
)
def test_invalid_arguments_never_reach_the_server(
    term: SimulatedTerminal, request_: dict[str, Any], field: str
) -> None:
    """The module's own argument checks: floats only, 29 UTF-16 units, expiration an int."""
    assert term.order_check(request_) is None
    assert term.last_error() == (-2, f'Invalid "{field}" argument')
    assert term.order_send(request_) is None
    assert term.sent_orders() == []


def test_what_the_module_accepts_reaches_the_server(term: SimulatedTerminal) -> None:
    """Unknown keys are ignored, bools pass as ints, 29 characters fit; missing fields are 0."""
    accepted = buy(comment="c" * 29, type_filling=True, **{"sl ": 1.0, "note": object()})
    result = filled(term.order_send(accepted))
    assert result.request.comment == "c" * 29 and result.request.type_filling == 1
    missing_volume = {k: v for k, v in buy().items() if k != "volume"}
    answer = term.order_send(missing_volume)
    assert answer is not None and answer.retcode == c.TRADE_RETCODE_INVALID_VOLUME
    for request_, retcode in (({**buy(), "action": 3}, c.TRADE_RETCODE_INVALID),
                              ({**buy(), "type": 42}, c.TRADE_RETCODE_INVALID_ORDER)):
        answer = term.order_send(request_)
        assert answer is not None and answer.retcode == retcode


@pytest.mark.parametrize(("field", "value"), [("magic", -1), ("deviation", 2**64),
                                              ("position", -5), ("expiration", 2**63)])
def test_out_of_range_integers_raise_system_error_like_the_module(
    term: SimulatedTerminal, field: str, value: int
) -> None:
    with pytest.raises(SystemError, match="returned a result with an exception set"):
        term.order_send({**buy(), field: value})
    assert term.sent_orders() == []


@pytest.mark.parametrize(
    ("request_", "retcode", "comment"),
    [(buy(volume=0.015), 10014, "Invalid volume"), (buy(volume=0.0), 10014, "Invalid volume"),
     (buy(volume=150.0), 10014, "Invalid volume"), (buy(volume=99.0), 10019, "No money"),
     (buy(sl=5.0), 10016, "Invalid stops"), (buy(tp=0.5), 10016, "Invalid stops"),
     (sell(sl=0.5), 10016, "Invalid stops"), (buy(symbol="NOPE"), 10013, "Invalid request"),
     (buy(type_filling=c.ORDER_FILLING_BOC), 10030, "Unsupported filling mode")],
)
def test_business_rules_answer_with_retcodes(
    term: SimulatedTerminal, request_: dict[str, Any], retcode: int, comment: str
) -> None:
    check = term.order_check(request_)
    assert check is not None and (check.retcode, check.comment) == (retcode, comment)
    result = term.order_send(request_)
    assert result is not None and (result.retcode, result.comment) == (retcode, comment)
    assert (result.deal, result.order) == (0, 0) and term.positions_get() == ()


def test_stops_within_the_stops_level_are_invalid(term: SimulatedTerminal) -> None:
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    too_close = {**buy(), "sl": round(tick.bid - 0.00005, 5)}  # 5 points, level is 10
    far_enough = {**buy(), "sl": round(tick.bid - 0.0005, 5), "tp": round(tick.bid + 0.0005, 5)}
    assert term.order_check(too_close).retcode == 10016  # type: ignore[union-attr]
    assert term.order_check(far_enough).retcode == 0  # type: ignore[union-attr]


# -- order_send ---------------------------------------------------------------


def test_market_orders_fill_at_ask_and_bid(term: SimulatedTerminal) -> None:
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    b = filled(term.order_send(buy()))
    s = filled(term.order_send(sell(comment="mg-c2")))
    assert (b.price, b.bid, b.ask) == (tick.ask, tick.bid, tick.ask) and s.price == tick.bid
    assert b.comment == "Request executed" and b.retcode_external == 0 and b.volume == 0.1
    assert s.deal > b.deal and s.order > b.order and s.request_id == b.request_id + 1
    assert b.request.comment == "mg-c1" and b.request.magic == 77 and b.request.volume == 0.1
    assert term.sent_orders() == [buy(), sell(comment="mg-c2")]


def test_a_fill_creates_a_position_and_a_deal_carrying_comment_and_magic(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    r = filled(term.order_send(buy()))
    (pos,) = term.positions_get() or ()
    assert (pos.ticket, pos.identifier, pos.type, pos.volume) == (r.order, r.order, 0, 0.1)
    assert (pos.comment, pos.magic, pos.price_open, pos.symbol) == ("mg-c1", 77, r.price, "EURUSD")
    (deal,) = term.history_deals_get(ticket=r.order) or ()
    assert (deal.ticket, deal.order, deal.position_id, deal.entry) == (r.deal, r.order, r.order, 0)
    assert (deal.comment, deal.magic, deal.type, deal.price) == ("mg-c1", 77, 0, r.price)
    assert deal.time_msc == int(fake_clock.now().timestamp() * 1000)


def test_equity_is_balance_plus_floating_profit(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    filled(term.order_send(buy(volume=1.0)))
    filled(term.order_send(sell("USDJPY", 1.0)))
    fake_clock.advance(600)
    positions = term.positions_get() or ()
    account = term.account_info()
    assert account is not None and len(positions) == 2
    floating = round(sum(p.profit for p in positions), 2)
    assert account.profit == pytest.approx(floating, abs=0.011)
    assert account.equity == pytest.approx(account.balance + account.profit, abs=0.011)
    assert account.margin == pytest.approx(1085 + 1000, rel=0.05)  # EUR 100k/100 in USD + USD 1000
    assert account.margin_free == pytest.approx(account.equity - account.margin, abs=0.011)
    assert account.margin_level == pytest.approx(account.equity / account.margin * 100, abs=0.01)


def test_closing_a_position_realises_profit_into_the_balance(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    opened = filled(term.order_send(buy(volume=0.5)))
    fake_clock.advance(300)
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    closed = filled(term.order_send(sell(volume=0.5, position=opened.order, comment="close")))
    assert closed.price == tick.bid
    expected = round((tick.bid - opened.price) * 0.5 * 100_000, 2)
    (out,) = [d for d in term.history_deals_get(position=opened.order) or () if d.entry == 1]
    assert out.profit == expected and out.comment == "close"
    account = term.account_info()
    assert account is not None and account.balance == round(10_000 + expected, 2)
    assert term.positions_get() == () and account.equity == account.balance


def test_partial_close_and_close_rules(term: SimulatedTerminal) -> None:
    opened = filled(term.order_send(buy(volume=0.3)))
    filled(term.order_send(sell(volume=0.1, position=opened.order)))
    (pos,) = term.positions_get() or ()
    assert pos.volume == pytest.approx(0.2)
    assert term.order_send(sell(volume=0.5, position=opened.order)).retcode == 10038  # type: ignore[union-attr]
    assert term.order_send(buy(volume=0.1, position=opened.order)).retcode == 10013  # type: ignore[union-attr]
    assert term.order_send(sell(volume=0.1, position=123)).retcode == 10036  # type: ignore[union-attr]


def test_pending_orders_are_placed_listed_and_removed(term: SimulatedTerminal) -> None:
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    req = {"action": c.TRADE_ACTION_PENDING, "symbol": "EURUSD", "volume": 0.2, "comment": "mg-p",
           "type": c.ORDER_TYPE_BUY_LIMIT, "price": round(tick.ask - 0.01, 5)}
    placed = term.order_send(req)
    assert placed is not None and (placed.retcode, placed.deal) == (10008, 0) and placed.order
    (order,) = term.orders_get() or ()
    assert (order.ticket, order.state, order.comment, order.volume_current) == (
        placed.order, c.ORDER_STATE_PLACED, "mg-p", 0.2)
    wrong_side = {**req, "price": round(tick.ask + 0.01, 5)}
    assert term.order_send(wrong_side).retcode == 10015  # type: ignore[union-attr]
    removed = term.order_send({"action": c.TRADE_ACTION_REMOVE, "order": placed.order})
    assert removed is not None and removed.retcode == 10009 and term.orders_get() == ()
    assert term.positions_get() == () and term.history_deals_get(ticket=placed.order) == ()


def test_sltp_modifies_an_open_position(term: SimulatedTerminal) -> None:
    opened = filled(term.order_send(buy()))
    tick = term.symbol_info_tick("EURUSD")
    assert tick is not None
    sl = round(tick.bid - 0.002, 5)
    filled(term.order_send({"action": c.TRADE_ACTION_SLTP, "position": opened.order, "sl": sl}))
    (pos,) = term.positions_get() or ()
    assert pos.sl == sl


# -- queries ----------------------------------------------------------------


def test_filters_by_symbol_group_and_ticket(term: SimulatedTerminal) -> None:
    eur = filled(term.order_send(buy("EURUSD")))
    filled(term.order_send(buy("USDJPY")))
    filled(term.order_send(buy("XAUUSD", 0.01)))
    symbols = lambda rows: sorted(p.symbol for p in rows or ())  # noqa: E731
    assert symbols(term.positions_get(symbol="USDJPY")) == ["USDJPY"]
    assert symbols(term.positions_get(group="*USD*")) == ["EURUSD", "USDJPY", "XAUUSD"]
    assert symbols(term.positions_get(group="*USD*,!EUR*")) == ["USDJPY", "XAUUSD"]
    assert symbols(term.positions_get(group="XAU*,EUR*")) == ["EURUSD", "XAUUSD"]
    assert symbols(term.positions_get(ticket=eur.order)) == ["EURUSD"]
    assert term.positions_get(symbol="GBPUSD") == () and term.orders_get() == ()
    assert term.positions_get(ticket="x") is None  # type: ignore[arg-type]
    assert term.last_error() == (-2, 'Invalid "ticket" argument')


def test_history_by_dates_accepts_datetimes_and_epoch_seconds(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    filled(term.order_send(buy()))
    fake_clock.advance(3600)
    filled(term.order_send(buy("USDJPY")))
    now = fake_clock.now()
    assert len(term.history_deals_get(START, now) or ()) == 2
    assert len(term.history_deals_get(now - timedelta(minutes=1), now) or ()) == 1
    naive = (now - timedelta(minutes=1)).replace(tzinfo=None)
    assert len(term.history_deals_get(naive, now.replace(tzinfo=None)) or ()) == 1
    assert len(term.history_deals_get(START.timestamp(), int(now.timestamp())) or ()) == 2
    assert len(term.history_deals_get(START, now, group="EUR*") or ()) == 1
    assert term.history_deals_get(now + timedelta(days=1), now + timedelta(days=2)) == ()
    assert term.history_deals_get() is None and term.last_error() == (-2, "Invalid arguments")


# -- faults -------------------------------------------------------------------


def test_disconnect_until_reconnect_allowed_then_initialize_again(term: SimulatedTerminal) -> None:
    term.disconnect()
    assert not term.connected
    assert term.terminal_info() is None and term.last_error() == NO_IPC
    assert term.symbol_select("EURUSD", True) is False and term.last_error() == NO_IPC
    assert term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo") is False
    assert term.last_error() == NO_IPC
    term.reconnect_allowed()
    assert term.account_info() is None and term.last_error() == NO_IPC  # still needs initialize
    connect(term)
    assert term.account_info() is not None


def test_disconnect_for_a_while_ends_by_itself(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    term.disconnect(for_seconds=30)
    fake_clock.advance(29)
    assert not term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    fake_clock.advance(1)
    connect(term)


def test_terminal_down_fails_initialize_with_not_found(term: SimulatedTerminal) -> None:
    term.set_down(True)
    assert term.symbol_info_tick("EURUSD") is None and term.last_error() == NO_IPC
    assert term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo") is False
    assert term.last_error() == (-10003, "IPC initialize failed, MetaTrader 5 x64 not found")
    term.set_down(False)
    connect(term)


def test_initialize_timeout_blocks_for_the_whole_timeout(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    term.initialize_times_out()
    before = fake_clock.monotonic()
    assert not term.initialize(
        login=5001, password=PASSWORD, server="MetaQuotes-Demo", timeout=60000
    )
    assert fake_clock.monotonic() - before == pytest.approx(60.0)
    assert term.last_error() == IPC_TIMEOUT and not term.connected
    term.initialize_times_out(False)
    connect(term)


def test_revoked_auth_fails_account_and_trading_but_not_quotes(term: SimulatedTerminal) -> None:
    term.revoke_auth()
    assert term.account_info() is None and term.last_error() == AUTH_FAILED
    assert term.order_send(buy()) is None and term.last_error() == AUTH_FAILED
    assert term.symbol_info_tick("EURUSD") is not None
    assert not term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    assert term.last_error() == AUTH_FAILED
    term.restore_auth()
    connect(term)
    assert term.account_info() is not None and term.sent_orders() == []


def test_hang_next_blocks_on_the_clock_then_times_out(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    term.hang_next("symbol_info_tick", 20.0, times=2)
    before = fake_clock.monotonic()
    assert term.symbol_info_tick("EURUSD") is None and term.last_error() == IPC_TIMEOUT
    assert term.symbol_info_tick("EURUSD") is None
    assert fake_clock.monotonic() - before == pytest.approx(40.0)
    assert term.symbol_info_tick("EURUSD") is not None and term.last_error() == OK
    term.hang_next("initialize", 5.0)
    assert term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo") is False
    with pytest.raises(ValueError, match="not a terminal call"):
        term.hang_next("copy_rates", 1.0)


def test_restart_drops_ipc_but_keeps_the_book_and_ticket_counters(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    first = filled(term.order_send(buy()))
    term.restart()
    assert term.positions_get() is None and term.last_error() == NO_IPC
    connect(term)
    assert [p.ticket for p in term.positions_get() or ()] == [first.order]
    second = filled(term.order_send(buy(comment="mg-c2")))
    assert second.order > first.order and second.deal > first.deal
    assert second.request_id > first.request_id
    term.restart(downtime=10)
    assert not term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    assert term.last_error()[0] == -10003
    fake_clock.advance(10)
    connect(term)
    assert len(term.history_deals_get(START, fake_clock.now()) or ()) == 2


def test_stale_quotes_freeze_one_symbol_or_all(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    frozen = term.symbol_info_tick("EURUSD")
    moving = term.symbol_info_tick("USDJPY")
    term.stale_quotes("EURUSD")
    fake_clock.advance(30)
    assert term.symbol_info_tick("EURUSD") == frozen
    later = term.symbol_info_tick("USDJPY")
    assert later is not None and moving is not None and later.time_msc > moving.time_msc
    term.stale_quotes()
    fake_clock.advance(30)
    assert term.symbol_info_tick("USDJPY") == later
    term.fresh_quotes()
    fake_clock.advance(1)
    fresh = term.symbol_info_tick("EURUSD")
    assert fresh is not None and frozen is not None and fresh.time_msc > frozen.time_msc
    with pytest.raises(ValueError):
        term.stale_quotes("NOPE")


def test_server_offline_no_fills_stale_ticks_and_no_login(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    before = term.symbol_info_tick("EURUSD")
    term.server_offline()
    info = term.terminal_info()
    assert info is not None and info.connected is False
    fake_clock.advance(10)
    assert term.symbol_info_tick("EURUSD") == before
    result = term.order_send(buy())
    assert result is not None and result.retcode == 10031
    assert result.comment == "No connection with the trade server" and result.deal == 0
    assert term.positions_get() == () and term.sent_orders() == []
    assert not term.initialize(login=5001, password=PASSWORD, server="MetaQuotes-Demo")
    assert term.last_error() == AUTH_FAILED
    term.server_offline(False)
    connect(term)
    filled(term.order_send(buy()))


def test_scripted_retcodes_come_one_per_call_without_fills(term: SimulatedTerminal) -> None:
    term.script_order_retcodes(10004, 10018, 10019, 10024, 10031)
    answers = [term.order_send(buy()) for _ in range(5)]
    assert [(a.retcode, a.comment) for a in answers if a] == [
        (10004, "Requote"), (10018, "Market is closed"), (10019, "No money"),
        (10024, "Too many requests"), (10031, "No connection with the trade server")]
    assert term.positions_get() == () and term.sent_orders() == []
    filled(term.order_send(buy()))
    with pytest.raises(ValueError):
        term.script_order_retcodes(10009)


def test_lost_reply_after_execution_leaves_a_trail_to_reconcile(
    term: SimulatedTerminal, fake_clock: FakeClock
) -> None:
    term.lose_next_order_reply()
    assert term.order_send(buy(comment="mg-lost")) is None and term.last_error() == IPC_TIMEOUT
    assert len(term.sent_orders()) == 1
    deals = term.history_deals_get(START, fake_clock.now() + timedelta(minutes=1)) or ()
    assert [(d.comment, d.magic) for d in deals] == [("mg-lost", 77)]
    assert [p.comment for p in term.positions_get() or ()] == ["mg-lost"]


def test_lost_reply_with_timeout_retcode_and_unexecuted_variant(term: SimulatedTerminal) -> None:
    term.lose_next_order_reply(executed=True, retcode=10012)
    result = term.order_send(buy())
    assert result is not None and (result.retcode, result.comment) == (10012, "Request timed out")
    assert (result.deal, result.order) == (0, 0) and len(term.positions_get() or ()) == 1
    term.lose_next_order_reply(executed=False)
    assert term.order_send(buy(comment="mg-never")) is None
    assert len(term.positions_get() or ()) == 1 and len(term.sent_orders()) == 1


def test_restore_clears_every_fault(term: SimulatedTerminal) -> None:
    term.server_offline()
    term.revoke_auth()
    term.stale_quotes()
    term.script_order_retcodes(10004)
    term.restore()
    connect(term)
    filled(term.order_send(buy()))


# -- introspection, guard, secrets -------------------------------------------


def test_calls_count_every_attempt_including_failures(fake_clock: FakeClock) -> None:
    t = SimulatedTerminal(fake_clock)
    t.account_info()
    t.account_info()
    t.last_error()
    connect(t)
    assert t.calls["account_info"] == 2 and t.calls["last_error"] == 1
    assert t.calls["initialize"] == 1 and t.calls["symbol_select"] == 1


def test_call_latency_costs_clock_time(fake_clock: FakeClock) -> None:
    t = SimulatedTerminal(fake_clock, call_latency=0.05)
    before = fake_clock.monotonic()
    t.version()
    t.last_error()
    assert fake_clock.monotonic() - before == pytest.approx(0.05)


def test_two_threads_inside_the_api_raise_concurrent_call_error() -> None:
    clock = BlockingClock()
    t = SimulatedTerminal(clock)
    connect(t)
    t.hang_next("account_info", 30.0)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append((t.account_info(), t.last_error())))
    worker.start()
    assert clock.sleeping.wait(5.0)
    with pytest.raises(ConcurrentCallError, match="account_info"):
        t.symbol_info_tick("EURUSD")
    t.stale_quotes()  # fault scripting never trips the guard
    t.script_order_retcodes(10004)
    assert t.calls["symbol_info_tick"] == 1
    clock.release.set()
    worker.join(5.0)
    assert outcome == [(None, IPC_TIMEOUT)]
    assert t.symbol_info_tick("EURUSD") is not None


PROBE_CALLS: dict[str, Any] = {
    "terminal_info": lambda t: t.terminal_info(),
    "account_info": lambda t: t.account_info(),
    "symbol_info_tick": lambda t: t.symbol_info_tick("EURUSD"),
}


@pytest.mark.parametrize(("hung", "refused"), [("terminal_info", "account_info"),
                                               ("account_info", "symbol_info_tick"),
                                               ("symbol_info_tick", "terminal_info")])
def test_a_hung_probe_call_holds_the_guard_but_not_the_terminal(hung: str, refused: str) -> None:
    # The health probe's three calls run their bodies under the state lock taken once
    # with the guard: a hang must still be slept without it, and a refused call must
    # give it back, or the hung caller could never finish.
    clock = BlockingClock()
    t = SimulatedTerminal(clock)
    connect(t)
    t.hang_next(hung, 30.0)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append((PROBE_CALLS[hung](t),
                                                              t.last_error())))
    worker.start()
    assert clock.sleeping.wait(5.0)
    with pytest.raises(ConcurrentCallError, match=hung):
        PROBE_CALLS[refused](t)
    t.server_offline()  # fault scripting goes on while the call hangs
    clock.release.set()
    worker.join(5.0)
    assert outcome == [(None, IPC_TIMEOUT)]
    assert t.calls[hung] == 1 and t.calls[refused] == 1
    info = t.terminal_info()
    assert info is not None and info.connected is False
    t.server_offline(False)
    assert all(PROBE_CALLS[name](t) is not None for name in PROBE_CALLS)
    assert t.last_error() == OK


@pytest.mark.parametrize("waiting", sorted(PROBE_CALLS))
def test_a_probe_call_that_waits_holds_the_guard_and_one_that_does_not_leaves_it_free(
        waiting: str) -> None:
    # A probe call with nothing to wait for runs under the state lock without taking the
    # guard (no other thread can see it); one that sleeps out the latency must hold it.
    clock = BlockingClock()
    t = SimulatedTerminal(clock, call_latency=0.5)
    clock.release.set()  # connecting sleeps out the latency too
    connect(t)
    clock.release.clear()
    clock.sleeping.clear()
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(PROBE_CALLS[waiting](t)))
    worker.start()
    assert clock.sleeping.wait(5.0)
    for name in PROBE_CALLS:
        with pytest.raises(ConcurrentCallError, match=waiting):
            PROBE_CALLS[name](t)
    clock.release.set()
    worker.join(5.0)
    assert outcome[0] is not None and not t._guard.lock.locked()
    t._call_latency = 0.0  # now every probe call is a common one
    assert all(PROBE_CALLS[name](t) is not None for name in PROBE_CALLS)
    assert not t._guard.lock.locked() and t.last_error() == OK


def test_probe_calls_from_many_threads_without_waits_are_serialised_not_refused() -> None:
    t = SimulatedTerminal(FakeClock())
    connect(t)
    errors: list[BaseException] = []
    answers: list[object] = []

    def probe() -> None:
        try:
            for _ in range(300):
                answers.extend(PROBE_CALLS[name](t) for name in PROBE_CALLS)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=probe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10.0)
    assert errors == [] and len(answers) == 4 * 300 * 3 and None not in answers
    assert all(t.calls[name] == 1200 for name in PROBE_CALLS)
    assert not t._guard.lock.locked()


def test_no_password_in_any_repr(term: SimulatedTerminal) -> None:
    filled(term.order_send(buy()))
    texts = [repr(term), str(vars(term)), repr(term.account_info()), repr(term.terminal_info()),
             repr(term.positions_get()), repr(term.history_deals_get(ticket=1))]
    assert all(PASSWORD not in text for text in texts)
    assert "connected=True" in repr(term)


def test_custom_symbols_and_spec_validation(fake_clock: FakeClock) -> None:
    spec = SymbolSpec("EURGBP", 5, 0.85, spread=8)
    assert (spec.currency_base, spec.currency_profit, spec.point) == ("EUR", "GBP", 1e-05)
    t = SimulatedTerminal(fake_clock, symbols={"EURGBP": spec})
    connect(t, "EURGBP")
    assert t.symbol_select("EURUSD", True) is False
    with pytest.raises(ValueError):
        SimulatedTerminal(fake_clock, symbols={"X": spec})
    with pytest.raises(ValueError):
        SymbolSpec("BAD", 5, 1.0, volume_min=2.0, volume_max=1.0)
    with pytest.raises(ValueError):
        SymbolSpec("BAD", 5, -1.0)


def test_symbol_functions_take_positions_only_like_the_module(term: SimulatedTerminal) -> None:
    for call in (lambda: term.symbol_info(symbol="EURUSD"),  # type: ignore[call-arg]
                 lambda: term.symbol_info_tick(symbol="EURUSD"),  # type: ignore[call-arg]
                 lambda: term.symbol_select("EURUSD", enable=True)):  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            call()
    assert term.shutdown() is True
