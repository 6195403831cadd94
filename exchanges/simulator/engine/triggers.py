"""Conditional orders: stop and take-profit orders that wait off the book until the price
they watch (mark, last or index) reaches their trigger, then execute as a market or limit
order, as the venues run them (Deribit trigger orders, OKX algo orders, Bybit conditional
orders).

An untriggered order is open (`is_open`), listed in `SimAccount.conditional_orders`, locks no
margin and is not on the book. `fire_triggers` (the market generator calls it after every
step) fires those whose price has crossed: the order announces itself NEW with
`triggered_ns` set, then runs like a fresh order (`_execute_new`). One that cannot run then
(its margin, a reduce-only order with nothing to reduce, no liquidity for a market order) ends
CANCELED with `TRIGGER_FAILED`.
"""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.engine.records import (
    CancelReason,
    ClientIdScope,
    RejectReason,
    SimAccount,
    SimOrder,
    SimReject,
)
from exchanges.venues.base import (
    InstrumentInfo,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerDirection,
    TriggerPrice,
    Venue,
    trigger_direction,
)


class EngineTriggers:
    """The `Engine`'s conditional orders (module doc)."""

    def place_conditional(
        self,
        venue: Venue,
        api_key: str,
        symbol: str,
        *,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        trigger_price: Decimal,
        trigger_by: TriggerPrice = TriggerPrice.MARK,
        price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        reduce_only: bool = False,
        client_order_id: str | None = None,
        client_id_scope: ClientIdScope = ClientIdScope.OPEN,
        assign_triggered_id: bool = False,
    ) -> SimOrder:
        """Accept a conditional order (`order_type.is_conditional`), UNTRIGGERED.

        Refused with INVALID_TRIGGER_PRICE when the trigger is off the tick or already reached
        by the price it watches (it would fire at once: the venues refuse that too).
        `assign_triggered_id`: give the order a second id for the order its trigger places
        (`SimOrder.triggered_order_id`, OKX's `ordId`)."""
        info = self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        side, order_type = Side(side), OrderType(order_type)
        if not order_type.is_conditional:
            raise ValueError(f"{order_type} is not a conditional order type")
        quantity, trigger_price = Decimal(quantity), Decimal(trigger_price)
        price = Decimal(price) if order_type.has_price and price is not None else None
        self._validate_size(info, quantity)
        if order_type.has_price:
            self._validate_price(info, price)
        direction = self._validate_trigger(
            info, order_type, side, trigger_price, TriggerPrice(trigger_by)
        )
        self._check_client_id(account, client_order_id, client_id_scope)
        order = self._new_order(
            venue,
            api_key,
            symbol,
            client_order_id=client_order_id or None,
            side=side,
            order_type=order_type,
            time_in_force=TimeInForce(time_in_force),
            post_only=False,
            reduce_only=reduce_only,
            price=price,
            quantity=quantity,
            status=OrderStatus.UNTRIGGERED,
            trigger_price=trigger_price,
            trigger_by=TriggerPrice(trigger_by),
            trigger_direction=direction,
        )
        if assign_triggered_id:
            order.triggered_order_id = str(next(self._order_ids[venue]))
        account.orders[order.order_id] = order
        account.conditional_orders[order.order_id] = order
        if order.client_order_id:
            account.by_client_id[order.client_order_id] = order
        self._emit_order(account, order)
        return order

    def _validate_trigger(
        self,
        info: InstrumentInfo,
        order_type: OrderType,
        side: Side,
        trigger_price: Decimal,
        trigger_by: TriggerPrice,
    ) -> TriggerDirection:
        """Refuse (INVALID_TRIGGER_PRICE) a trigger that is not positive, off the tick, or
        already reached by the price it watches (it would fire at once: the venues refuse that
        too); returns the direction it fires in."""
        if not trigger_price.is_finite() or trigger_price <= 0:
            raise SimReject(
                RejectReason.INVALID_TRIGGER_PRICE, f"trigger {trigger_price} must be positive"
            )
        if trigger_price % info.tick_size != 0:
            raise SimReject(
                RejectReason.INVALID_TRIGGER_PRICE,
                f"trigger {trigger_price} is not a multiple of the tick {info.tick_size}",
            )
        direction = trigger_direction(order_type, side)
        watched = self.trigger_source_price(info.venue, info.venue_symbol, trigger_by)
        if watched is not None and _reached(direction, watched, trigger_price):
            where = "above" if direction is TriggerDirection.RISE else "below"
            raise SimReject(
                RejectReason.INVALID_TRIGGER_PRICE,
                f"trigger {trigger_price} must be {where} the {trigger_by} price {watched}",
                watched=watched,
            )
        return direction

    def _amend_untriggered(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        order: SimOrder,
        *,
        price: Decimal | None,
        quantity: Decimal | None,
        trigger_price: Decimal | None,
    ) -> SimOrder:
        """Change an untriggered order's trigger, quantity and (limit kinds) price, all
        checked before any is applied; it keeps waiting off the book (`Engine.amend_order`
        calls this for an UNTRIGGERED order)."""
        if price is not None and not order.order_type.has_price:
            raise SimReject(
                RejectReason.INVALID_PRICE, f"a {order.order_type} order has no price to amend"
            )
        if price is not None:
            self._validate_price(info, Decimal(price))
        if quantity is not None:
            self._validate_size(info, Decimal(quantity))
        if trigger_price is not None:
            self._validate_trigger(
                info, order.order_type, order.side, Decimal(trigger_price), order.trigger_by
            )
        if price is not None:
            order.price = Decimal(price)
        if quantity is not None:
            order.quantity = Decimal(quantity)
        if trigger_price is not None:
            order.trigger_price = Decimal(trigger_price)
        order.updated_ns = self.clock_ns()
        self._emit_order(account, order)
        return order

    def conditional_orders(
        self, venue: Venue, api_key: str, symbol: str | None = None
    ) -> list[SimOrder]:
        """The account's untriggered conditional orders, oldest first."""
        account = self._require_account(venue, api_key)
        return [
            o for o in account.conditional_orders.values() if symbol is None or o.symbol == symbol
        ]

    def trigger_source_price(
        self, venue: Venue, symbol: str, trigger_by: TriggerPrice
    ) -> Decimal | None:
        """The price a conditional order watching `trigger_by` compares with its trigger: the
        mark, the last trade (the seeded open before the first), or the index of the base."""
        if trigger_by is TriggerPrice.MARK:
            return self.mark_price(venue, symbol)
        if trigger_by is TriggerPrice.INDEX:
            return self.index_price(self.instrument(venue, symbol).base)
        book = self._books[(venue, symbol)]
        if book.last_price is not None:
            return book.last_price
        return self._stats[(venue, symbol)].open

    def fire_triggers(self) -> list[SimOrder]:
        """Fire every untriggered order whose watched price has reached its trigger; returns
        them in the order they fired (oldest first)."""
        fired: list[SimOrder] = []
        accounts = [a for a in self._accounts.values() if a.conditional_orders]
        prices: dict[tuple[Venue, str, TriggerPrice], Decimal | None] = {}
        for account in accounts:
            for order in list(account.conditional_orders.values()):
                key = (order.venue, order.symbol, order.trigger_by)
                if key not in prices:
                    prices[key] = self.trigger_source_price(*key)
                watched = prices[key]
                if watched is None or not _reached(
                    order.trigger_direction, watched, order.trigger_price
                ):
                    continue
                self._fire(account, order)
                fired.append(order)
        return fired

    def _fire(self, account: SimAccount, order: SimOrder) -> None:
        info = self.instrument(order.venue, order.symbol)
        book = self._books[(order.venue, order.symbol)]
        account.conditional_orders.pop(order.order_id, None)
        now = self.clock_ns()
        order.triggered_ns = now
        order.updated_ns = now
        if order.triggered_order_id:
            account.orders[order.triggered_order_id] = order
        as_market = order.order_type.executes_as is OrderType.MARKET
        try:
            if as_market and book.best(order.side.opposite) is None:
                raise SimReject(RejectReason.NO_LIQUIDITY, "no liquidity")
            if order.reduce_only:
                self._check_reduce_only(account, info, order.symbol, order.side, order.quantity)
            self._check_funds(
                account,
                info,
                book,
                order.side,
                order.order_type.executes_as,
                order.quantity,
                order.price,
                order.reduce_only,
            )
        except SimReject as refused:
            order.status = OrderStatus.CANCELED
            order.cancel_reason = CancelReason.TRIGGER_FAILED
            order.reject_reason = refused.reason
            self._emit_order(account, order)
            self._flush()
            return
        order.status = OrderStatus.NEW
        self._emit_order(account, order)
        self._execute_new(account, info, book, order)


def _reached(direction: TriggerDirection, watched: Decimal, trigger: Decimal) -> bool:
    return watched >= trigger if direction is TriggerDirection.RISE else watched <= trigger
