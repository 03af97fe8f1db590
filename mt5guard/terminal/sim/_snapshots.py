"""Builds the account, terminal and symbol records the simulated terminal returns."""

from __future__ import annotations

import functools

from mt5guard.terminal import constants as c
from mt5guard.terminal._symbol_records import symbol_info_with
from mt5guard.terminal.records import AccountInfo, SymbolInfo, TerminalInfo, Tick
from mt5guard.terminal.sim._ledger import AccountSnapshot, Ledger, idle_snapshot
from mt5guard.terminal.sim.symbols import SymbolSpec

#: What ``version()`` answers: (500, build, release date).
VERSION: tuple[int, int, str] = (500, 5120, "20 Jun 2025")

_COMPANY = "mt5guard simulation"
_record = tuple.__new__
_LOGIN, _TRADE_ALLOWED, _SERVER = map(AccountInfo._fields.index,
                                      ("login", "trade_allowed", "server"))
_DATA_PATH = r"C:\Users\trader\AppData\Roaming\MetaQuotes\Terminal\D0E8209F77C8CF37AD8BF550E51FF075"


def account_record(ledger: Ledger, login: int, server: str,
                   trade_allowed: bool = True) -> AccountInfo:
    """A demo hedging account, 1:leverage, stop-out at 30 % and margin call at 50 %."""
    if not ledger.positions:
        return _idle_account_record(ledger.balance, ledger.leverage, ledger.currency, login,
                                    server, trade_allowed)
    kept = ledger.kept()
    record = kept.record
    # The record made of this money before answers again if it was made for this login,
    # server and trade_allowed (the investor fault turns trade_allowed off and on while the
    # book, and so the kept money, stays): a hit costs three comparisons, not 28 fields.
    if (record is None or record[_TRADE_ALLOWED] != trade_allowed
            or record[_LOGIN] != login or record[_SERVER] != server):
        record = kept.record = _account_record(kept.money, ledger.leverage, ledger.currency,
                                               login, server, trade_allowed)
    return record


def _account_record(snap: AccountSnapshot, leverage: int, currency: str, login: int,
                    server: str, trade_allowed: bool) -> AccountInfo:
    # Positional, in AccountInfo's field order (named in the comments), and through
    # tuple.__new__ (what the named tuple's own __new__ calls): every health probe of
    # an account with positions builds one.
    return _record(AccountInfo, (
        login, c.ACCOUNT_TRADE_MODE_DEMO, leverage, 200,  # login trade_mode leverage limit_orders
        c.ACCOUNT_STOPOUT_MODE_PERCENT, trade_allowed, True,  # margin_so_mode trade_allowed/expert
        c.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING, 2, False,  # margin_mode currency_digits fifo_close
        snap.balance, 0.0, snap.profit, snap.equity,  # balance credit profit equity
        snap.margin, snap.margin_free, snap.margin_level,  # margin margin_free margin_level
        50.0, 30.0, 0.0, 0.0,  # margin_so_call margin_so_so margin_initial margin_maintenance
        0.0, 0.0, 0.0,  # assets liabilities commission_blocked
        "Simulated Trader", server, currency, _COMPANY,  # name server currency company
    ))


def _terminal_record(connected: bool, trade_allowed: bool) -> TerminalInfo:
    """The terminal; ``connected`` is its link to the trade server."""
    return TerminalInfo(
        community_account=False,
        community_connection=False,
        connected=connected,
        dlls_allowed=False,
        trade_allowed=trade_allowed,
        tradeapi_disabled=False,
        email_enabled=False,
        ftp_enabled=False,
        notifications_enabled=False,
        mqid=False,
        build=VERSION[1],
        maxbars=100_000,
        codepage=0,
        ping_last=31_250 if connected else 0,
        community_balance=0.0,
        retransmission=0.0,
        company=_COMPANY,
        name="MetaTrader 5",
        language="English",
        path=r"C:\Program Files\MetaTrader 5",
        data_path=_DATA_PATH,
        commondata_path=r"C:\Users\trader\AppData\Roaming\MetaQuotes\Terminal\Common",
    )


#: The four terminal records, ``TERMINAL_RECORDS[connected][trade_allowed]`` (bools index):
#: immutable, so every terminal_info answers one of them.
TERMINAL_RECORDS: tuple[tuple[TerminalInfo, TerminalInfo], tuple[TerminalInfo, TerminalInfo]] = (
    (_terminal_record(False, False), _terminal_record(False, True)),
    (_terminal_record(True, False), _terminal_record(True, True)),
)


def symbol_record(spec: SymbolSpec, tick: Tick, ledger: Ledger) -> SymbolInfo:
    """A selected symbol with its current prices and its execution and filling modes."""
    tick_value = round(spec.contract_size * spec.point * ledger.rate(spec.currency_profit), 5)
    return symbol_info_with(
        select=True,
        visible=True,
        time=tick.time,
        digits=spec.digits,
        spread=spec.spread,
        trade_calc_mode=(c.SYMBOL_CALC_MODE_EXCH_STOCKS
                         if spec.trade_exemode == c.SYMBOL_TRADE_EXECUTION_EXCHANGE
                         else c.SYMBOL_CALC_MODE_FOREX),
        trade_mode=spec.trade_mode,
        trade_stops_level=spec.stops_level,
        trade_exemode=spec.trade_exemode,
        expiration_mode=(c.SYMBOL_EXPIRATION_GTC | c.SYMBOL_EXPIRATION_DAY
                         | c.SYMBOL_EXPIRATION_SPECIFIED | c.SYMBOL_EXPIRATION_SPECIFIED_DAY),
        filling_mode=spec.filling_mode,
        order_mode=127,  # market, limit, stop, stop-limit, SL, TP, close-by
        bid=tick.bid,
        ask=tick.ask,
        last=tick.last,
        point=spec.point,
        trade_tick_value=tick_value,
        trade_tick_value_profit=tick_value,
        trade_tick_value_loss=tick_value,
        trade_tick_size=spec.point,
        trade_contract_size=spec.contract_size,
        volume_min=spec.volume_min,
        volume_max=spec.volume_max,
        volume_step=spec.volume_step,
        currency_base=spec.currency_base,
        currency_profit=spec.currency_profit,
        currency_margin=spec.currency_base,
        description=spec.description,
        name=spec.name,
        path=f"Simulated\\{spec.name}",
    )


@functools.lru_cache(maxsize=256)
def _idle_account_record(balance: float, leverage: int, currency: str, login: int,
                         server: str, trade_allowed: bool) -> AccountInfo:
    """Without positions the money does not move between calls (it is the balance's):
    an idle account's probes (one account_info every 30 s) reuse one immutable record,
    valued once."""
    return _account_record(idle_snapshot(balance), leverage, currency, login, server,
                           trade_allowed)
