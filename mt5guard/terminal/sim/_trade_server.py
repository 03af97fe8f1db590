"""The simulated trade server: judges trade requests and executes them on a Ledger.

Ticket and request-id counters live here and only ever increase, across
terminal restarts. Every method runs under the terminal's state lock.
"""

from __future__ import annotations

from collections.abc import Callable

from mt5guard.terminal import constants as c
from mt5guard.terminal.records import OrderCheckResult, OrderSendResult, TradeDeal, TradeRequest
from mt5guard.terminal.sim import _trade_rules as rules
from mt5guard.terminal.sim._book import OpenPosition, PendingOrder
from mt5guard.terminal.sim._done_orders import done_order, filled_order
from mt5guard.terminal.sim._ledger import VOLUME_EPS, Ledger
from mt5guard.terminal.sim.symbols import SymbolSpec


class Sequence:
    """Ever-increasing numbers whose next value can be saved and restored."""

    def __init__(self, start: int) -> None:
        self.next_value = start

    def __next__(self) -> int:
        value = self.next_value
        self.next_value += 1
        return value


class TradeServer:
    """Validates requests (retcodes) and fills, places, modifies or removes orders."""

    def __init__(self, ledger: Ledger, now_msc: Callable[[], int]) -> None:
        self._ledger = ledger
        self._now_msc = now_msc
        self._order_tickets = Sequence(100_000_001)
        self._deal_tickets = Sequence(50_000_001)
        self._request_ids = Sequence(1)

    @property
    def counters(self) -> dict[str, int]:
        """The next order ticket, deal ticket and request id (persisted with the ledger)."""
        return {"order": self._order_tickets.next_value, "deal": self._deal_tickets.next_value,
                "request": self._request_ids.next_value}

    @counters.setter
    def counters(self, values: dict[str, int]) -> None:
        self._order_tickets.next_value = values["order"]
        self._deal_tickets.next_value = values["deal"]
        self._request_ids.next_value = values["request"]

    # -- validation ----------------------------------------------------------

    def _opening_margin(self, req: TradeRequest) -> float:
        if (
            req.action == c.TRADE_ACTION_DEAL
            and req.position == 0
            and req.symbol in self._ledger.specs
        ):
            return self._ledger.margin_for(req.symbol, req.volume)
        return 0.0

    def _verdict(self, req: TradeRequest) -> int:
        """The retcode this request gets from the server: 0 if it may execute."""
        if req.action == c.TRADE_ACTION_REMOVE:
            return 0 if req.order in self._ledger.orders else c.TRADE_RETCODE_INVALID
        if req.action == c.TRADE_ACTION_SLTP:
            pos = self._ledger.positions.get(req.position)
            if pos is None:
                return c.TRADE_RETCODE_POSITION_CLOSED
            buy = pos.type == c.POSITION_TYPE_BUY
            ok = rules.stops_ok(
                self._ledger.specs[pos.symbol], buy, self._ledger.close_price(pos), req.sl, req.tp
            )
            return 0 if ok else c.TRADE_RETCODE_INVALID_STOPS
        if req.action == c.TRADE_ACTION_MODIFY:
            order = self._ledger.orders.get(req.order)
            if order is None:
                return c.TRADE_RETCODE_INVALID
            return self._pending_verdict(self._ledger.specs[order.symbol], order.type, req)
        if req.action not in (c.TRADE_ACTION_DEAL, c.TRADE_ACTION_PENDING) or (
                req.symbol not in self._ledger.specs):
            return c.TRADE_RETCODE_INVALID  # CLOSE_BY is not simulated; 0 or unknown actions
        spec = self._ledger.specs[req.symbol]
        if spec.trade_mode == c.SYMBOL_TRADE_MODE_DISABLED:
            return c.TRADE_RETCODE_TRADE_DISABLED
        if not rules.volume_ok(spec, req.volume):
            return c.TRADE_RETCODE_INVALID_VOLUME
        if req.action == c.TRADE_ACTION_PENDING:
            if req.type not in rules.PENDING_TYPES:
                return c.TRADE_RETCODE_INVALID_ORDER
            return self._pending_verdict(spec, req.type, req)
        if req.type not in (c.ORDER_TYPE_BUY, c.ORDER_TYPE_SELL):
            return c.TRADE_RETCODE_INVALID_ORDER
        if not rules.filling_ok(spec, req.type_filling):
            return c.TRADE_RETCODE_INVALID_FILL
        if req.position:
            return self._close_verdict(req)
        if spec.trade_mode == c.SYMBOL_TRADE_MODE_CLOSEONLY:
            return c.TRADE_RETCODE_CLOSE_ONLY
        tick = self._ledger.quote(req.symbol)
        buy = req.type == c.ORDER_TYPE_BUY
        if not rules.stops_ok(spec, buy, tick.bid if buy else tick.ask, req.sl, req.tp):
            return c.TRADE_RETCODE_INVALID_STOPS
        if self._ledger.margin_for(req.symbol, req.volume) > self._ledger.snapshot().margin_free:
            return c.TRADE_RETCODE_NO_MONEY
        return 0

    def _pending_verdict(self, spec: SymbolSpec, order_type: int, req: TradeRequest) -> int:
        if not rules.pending_price_ok(spec, order_type, req.price, self._ledger.quote(spec.name)):
            return c.TRADE_RETCODE_INVALID_PRICE
        if not rules.stops_ok(spec, rules.is_buy(order_type), req.price, req.sl, req.tp):
            return c.TRADE_RETCODE_INVALID_STOPS
        if not c.ORDER_TIME_GTC <= req.type_time <= c.ORDER_TIME_SPECIFIED_DAY:
            return c.TRADE_RETCODE_INVALID_EXPIRATION
        if req.type_time == c.ORDER_TIME_SPECIFIED and req.expiration * 1000 <= self._now_msc():
            return c.TRADE_RETCODE_INVALID_EXPIRATION
        return 0

    def _close_verdict(self, req: TradeRequest) -> int:
        pos = self._ledger.positions.get(req.position)
        if pos is None or pos.symbol != req.symbol:
            return c.TRADE_RETCODE_POSITION_CLOSED
        closing_type = c.ORDER_TYPE_SELL if pos.type == c.POSITION_TYPE_BUY else c.ORDER_TYPE_BUY
        if req.type != closing_type:
            return c.TRADE_RETCODE_INVALID
        if req.volume > pos.volume + VOLUME_EPS:
            return c.TRADE_RETCODE_INVALID_CLOSE_VOLUME
        return 0

    # -- requests ------------------------------------------------------------

    def check(self, req: TradeRequest) -> OrderCheckResult:
        """``order_check``: the verdict and the account as it would be after the trade."""
        retcode = self._verdict(req)
        extra = self._opening_margin(req) if retcode in (0, c.TRADE_RETCODE_NO_MONEY) else 0.0
        snap = self._ledger.snapshot(extra)
        return OrderCheckResult(
            retcode,
            snap.balance,
            snap.equity,
            snap.profit,
            snap.margin,
            snap.margin_free,
            snap.margin_level,
            rules.comment_for(retcode),
            req,
        )

    def refuse(self, req: TradeRequest, retcode: int) -> OrderSendResult:
        """A reply without a fill, as the server sends for a rejected request."""
        return OrderSendResult(
            retcode,
            0,
            0,
            0.0,
            0.0,
            0.0,
            0.0,
            rules.comment_for(retcode),
            next(self._request_ids),
            0,
            req,
        )

    def execute(self, req: TradeRequest) -> OrderSendResult:
        """``order_send``: validate, then fill, place, modify or remove.

        The request executed if and only if the retcode is 10008 or 10009.
        """
        retcode = self._verdict(req)
        if retcode:
            return self.refuse(req, retcode)
        if req.action == c.TRADE_ACTION_DEAL:
            return self._deal(req)
        msc = self._now_msc()
        ticket = req.order
        if req.action == c.TRADE_ACTION_PENDING:
            ticket = next(self._order_tickets)
            self._ledger.orders[ticket] = PendingOrder.from_request(ticket, msc, req)
            tick = self._ledger.quote(req.symbol)
            return OrderSendResult(
                c.TRADE_RETCODE_PLACED,
                0,
                ticket,
                req.volume,
                req.price,
                tick.bid,
                tick.ask,
                rules.comment_for(c.TRADE_RETCODE_PLACED),
                next(self._request_ids),
                0,
                req,
            )
        if req.action == c.TRADE_ACTION_REMOVE:
            removed = self._ledger.orders.pop(req.order)
            self._ledger.history_orders.append(done_order(
                removed.record(0.0), msc, c.ORDER_STATE_CANCELED, c.ORDER_REASON_EXPERT))
        elif req.action == c.TRADE_ACTION_MODIFY:
            self._ledger.orders[req.order].modify(req)
        else:
            self._ledger.positions[req.position].set_stops(req.sl, req.tp, msc)
            ticket = 0
        return OrderSendResult(
            c.TRADE_RETCODE_DONE,
            0,
            ticket,
            0.0,
            0.0,
            0.0,
            0.0,
            rules.comment_for(c.TRADE_RETCODE_DONE),
            next(self._request_ids),
            0,
            req,
        )

    def _deal(self, req: TradeRequest) -> OrderSendResult:
        tick = self._ledger.quote(req.symbol)
        price = tick.ask if req.type == c.ORDER_TYPE_BUY else tick.bid
        msc = self._now_msc()
        order_ticket = next(self._order_tickets)
        profit = 0.0
        if req.position:
            pos = self._ledger.positions[req.position]
            position_id, entry = pos.ticket, c.DEAL_ENTRY_OUT
            profit = self._ledger.close_position(pos, req.volume, price)
        else:
            position_id, entry = order_ticket, c.DEAL_ENTRY_IN
            self._ledger.open_position(OpenPosition.from_request(order_ticket, msc, price, req))
        deal = TradeDeal(
            next(self._deal_tickets),
            order_ticket,
            msc // 1000,
            msc,
            req.type,
            entry,
            req.magic,
            position_id,
            c.DEAL_REASON_EXPERT,
            req.volume,
            price,
            0.0,
            0.0,
            profit,
            0.0,
            req.symbol,
            req.comment,
            "",
        )
        self._ledger.deals.append(deal)
        self._ledger.history_orders.append(filled_order(deal, req))
        return OrderSendResult(
            c.TRADE_RETCODE_DONE,
            deal.ticket,
            order_ticket,
            req.volume,
            price,
            tick.bid,
            tick.ask,
            rules.comment_for(c.TRADE_RETCODE_DONE),
            next(self._request_ids),
            0,
            req,
        )
