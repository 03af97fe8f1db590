"""Scripting what happens outside mt5guard: a trader's hand in the terminal, a stop hit.

These are test scripting calls, like the faults: they change the simulated
server's book directly, are never counted in ``calls`` and never trip the
concurrent-call guard. Deals they make carry the reason the real server
gives (``DEAL_REASON_CLIENT`` for a hand in the terminal, ``DEAL_REASON_SL``
/ ``DEAL_REASON_TP`` for a stop) and the comment it writes (``[sl 1.08000]``).
"""

from __future__ import annotations

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import TradeDeal
from mt5guard.terminal.sim._account_reads import AccountReads
from mt5guard.terminal.sim._book import OpenPosition
from mt5guard.terminal.sim._done_orders import done_order, filled_order
from mt5guard.terminal.sim._requests import parse_request

__all__ = ["OutsideTrading"]


class OutsideTrading(AccountReads):
    """``close_by_hand``, ``hit_stop``, ``modify_by_hand``, ``place_by_hand``, ``cancel_by_hand``,
    ``execute_late``, ``send_next_order_late``, ``book_balance_operation``."""

    def book_balance_operation(self, deal_type: int, amount: float, comment: str = "") -> int:
        """The broker books a deal that is not a trade (``DEAL_TYPE_BALANCE`` for a deposit or
        withdrawal, ``DEAL_TYPE_CREDIT``, ``DEAL_TYPE_COMMISSION``, ``DEAL_DIVIDEND``,
        ``DEAL_TAX``...): ``amount`` in the account currency (negative takes money out) goes
        to the balance, except a credit's; returns the deal ticket."""
        if deal_type in (c.DEAL_TYPE_BUY, c.DEAL_TYPE_SELL) or not 2 <= deal_type <= c.DEAL_TAX:
            raise ValueError(f"deal_type must be a DEAL_TYPE_* other than buy and sell, "
                             f"got {deal_type}")
        with self._state_lock:
            ledger, msc = self._ledger, self._now_msc()
            if deal_type not in (c.DEAL_TYPE_CREDIT, c.DEAL_TYPE_BUY_CANCELED,
                                 c.DEAL_TYPE_SELL_CANCELED):
                ledger.book_to_balance(amount)
            deal = TradeDeal(next(self._trade._deal_tickets), 0, msc // 1000, msc, deal_type,
                             c.DEAL_ENTRY_IN, 0, 0, c.DEAL_REASON_CLIENT, 0.0, 0.0, 0.0, 0.0,
                             float(amount), 0.0, "", comment, "")
            ledger.deals.append(deal)
            self._persist()
            return deal.ticket

    def close_by_hand(self, ticket: int, volume: float | None = None) -> int:
        """Close ``volume`` lots (None: all) of position ``ticket`` at market, as a trader
        in the terminal would; returns the deal ticket."""
        with self._state_lock:
            pos = self._position(ticket)
            price = self._ledger.close_price(pos)
            return self._close(pos, pos.volume if volume is None else volume, price,
                               c.DEAL_REASON_CLIENT, "")

    def hit_stop(self, ticket: int, which: str = "sl") -> int:
        """The server closes position ``ticket`` at its stop loss (``"sl"``) or take
        profit (``"tp"``) price; returns the deal ticket."""
        with self._state_lock:
            pos = self._position(ticket)
            price = pos.sl if which == "sl" else pos.tp
            if which not in ("sl", "tp") or price <= 0:
                raise ValueError(f"position {ticket} has no {which} to hit")
            digits = self._specs[pos.symbol].digits
            reason = c.DEAL_REASON_SL if which == "sl" else c.DEAL_REASON_TP
            return self._close(pos, pos.volume, price, reason, f"[{which} {price:.{digits}f}]")

    def modify_by_hand(self, ticket: int, *, sl: float | None = None, tp: float | None = None) -> None:
        """Move a position's stops in the terminal (None keeps one)."""
        with self._state_lock:
            pos = self._position(ticket)
            pos.set_stops(pos.sl if sl is None else sl, pos.tp if tp is None else tp,
                          self._now_msc())

    def place_by_hand(self, symbol: str, order_type: int, volume: float, price: float) -> int:
        """Place a pending order in the terminal; returns its ticket."""
        with self._state_lock:
            result = self._trade.execute(parse_request({
                "action": c.TRADE_ACTION_PENDING, "symbol": symbol, "volume": float(volume),
                "type": order_type, "price": float(price), "type_filling": c.ORDER_FILLING_RETURN,
            }))
            if result.retcode != c.TRADE_RETCODE_PLACED:
                raise ValueError(f"the server refused the order: {result.retcode} {result.comment}")
            return result.order

    def execute_late(self, request: dict[str, object]) -> int:
        """A trade request reaches the server late, by itself: the reply of the
        ``order_send`` that carried it was lost (``lose_next_order_reply(executed=False)``)
        and it executes now, while the client may be disconnected. Returns its order
        ticket; the comment (and so the client order id) is the request's own. A request
        still on its way (``send_next_order_late``) arrives now, and only now."""
        with self._state_lock:
            result = self._trade.execute(parse_request(dict(request)))
            if result.retcode not in (c.TRADE_RETCODE_DONE, c.TRADE_RETCODE_PLACED):
                raise ValueError(f"the server refused the order: {result.retcode} {result.comment}")
            if request in self._book.arriving:
                self._book.arriving.remove(request)
            self._book.sent.append(dict(request))
            self._persist()
            return result.order

    def send_next_order_late(self) -> None:
        """The next ``order_send``'s request reaches the trade server late, by itself.

        The call answers None with last_error (-10005, 'IPC timeout') and nothing
        executes yet: the request is on its way. It executes when the next
        terminal opens this ledger (the process that sent it died meanwhile, as a
        killed worker), or at ``execute_late``. Needs ``ledger_path``: the script and
        the request on its way are saved in the file, so a worker process
        (``terminal.isolation: process``) started on the file after this call
        inherits the script, and the worker started after it was killed executes
        the request, with no hook in the worker protocol.
        """
        if self._ledger_path is None:
            raise ValueError("send_next_order_late needs ledger_path: the request waits in the "
                             "ledger file for the next terminal to open it")
        with self._state_lock:
            self._book.late_next += 1
            self._persist()

    def cancel_by_hand(self, ticket: int) -> None:
        """Delete a pending order in the terminal."""
        with self._state_lock:
            order = self._ledger.orders.pop(ticket, None)
            if order is None:
                raise ValueError(f"no pending order {ticket}")
            self._ledger.history_orders.append(done_order(
                order.record(0.0), self._now_msc(), c.ORDER_STATE_CANCELED, c.ORDER_REASON_CLIENT))

    # -- plumbing --------------------------------------------------------------

    def _now_msc(self) -> int:
        return int(self._clock.now().timestamp() * 1000)

    def _position(self, ticket: int) -> OpenPosition:
        pos = self._ledger.positions.get(ticket)
        if pos is None:
            raise ValueError(f"no open position {ticket}")
        return pos

    def _close(self, pos: OpenPosition, volume: float, price: float, reason: int, comment: str) -> int:
        if not 0 < volume <= pos.volume + 1e-9:
            raise ValueError(f"cannot close {volume} of {pos.volume} lots")
        ledger, msc = self._ledger, self._now_msc()
        profit = ledger.close_position(pos, volume, price)
        deal_type = c.DEAL_TYPE_SELL if pos.type == c.POSITION_TYPE_BUY else c.DEAL_TYPE_BUY
        deal = TradeDeal(next(self._trade._deal_tickets), next(self._trade._order_tickets),
                         msc // 1000, msc, deal_type, c.DEAL_ENTRY_OUT, pos.magic, pos.ticket,
                         reason, volume, price, 0.0, 0.0, profit, 0.0, pos.symbol, comment, "")
        ledger.deals.append(deal)
        ledger.history_orders.append(filled_order(deal))
        return deal.ticket
