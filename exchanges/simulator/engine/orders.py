"""Order entry: place, amend and cancel, with the venue rules a face chooses per call."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.engine.records import (
    ZERO,
    AmendAtOrBelowFilled,
    CancelReason,
    ClientIdScope,
    PostOnlyAction,
    RejectReason,
    SimAccount,
    SimOrder,
    SimReject,
)
from exchanges.venues.base import OrderStatus, OrderType, Side, TimeInForce, Venue


class EngineOrders:
    """The `Engine`'s order operations (see `exchanges.simulator.engine` for the conventions)."""

    def place_order(
        self,
        venue: Venue,
        api_key: str,
        symbol: str,
        *,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None = None,
        time_in_force: TimeInForce = TimeInForce.GTC,
        post_only: bool = False,
        reduce_only: bool = False,
        client_order_id: str | None = None,
        post_only_action: PostOnlyAction = PostOnlyAction.RAISE,
        client_id_scope: ClientIdScope = ClientIdScope.OPEN,
    ) -> SimOrder:
        """Validate, accept and match an order; returns it in its state after matching.

        A post-only order that would take is handled as `post_only_action` says
        (`PostOnlyAction`); a market order is never post-only (POST_ONLY_WOULD_CROSS). A
        `client_order_id` already used within `client_id_scope` is refused
        (DUPLICATE_CLIENT_ORDER_ID).
        """
        info = self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        book = self._books[(venue, symbol)]
        side = Side(side)
        order_type = OrderType(order_type)
        time_in_force = TimeInForce(time_in_force)
        quantity = Decimal(quantity)
        price = None if price is None or order_type is OrderType.MARKET else Decimal(price)
        self._validate_size(info, quantity)
        if order_type is OrderType.LIMIT:
            self._validate_price(info, price)
        self._check_client_id(account, client_order_id, client_id_scope)
        opposite_best = book.best(side.opposite)
        would_take = post_only and (
            order_type is OrderType.MARKET
            or (opposite_best is not None and self._crosses(side, price, opposite_best))
        )
        if would_take and (
            order_type is OrderType.MARKET or post_only_action is PostOnlyAction.RAISE
        ):
            raise SimReject(
                RejectReason.POST_ONLY_WOULD_CROSS,
                f"post-only {side} at {price} would take {opposite_best}",
            )
        if order_type is OrderType.MARKET and opposite_best is None:
            raise SimReject(RejectReason.NO_LIQUIDITY, f"no {side.opposite} orders in {symbol}")
        if not account.internal:
            self._validate_notional(
                info, quantity, opposite_best if order_type is OrderType.MARKET else price
            )
        if reduce_only and not would_take:
            self._check_reduce_only(account, info, symbol, side, quantity)
        if not account.internal and not would_take:
            self._check_funds(account, info, book, side, order_type, quantity, price, reduce_only)

        order = self._new_order(
            venue,
            api_key,
            symbol,
            client_order_id=client_order_id or None,
            side=side,
            order_type=order_type,
            time_in_force=time_in_force,
            post_only=post_only,
            reduce_only=reduce_only,
            price=price,
            quantity=quantity,
            status=OrderStatus.NEW,
        )
        if not account.internal:
            account.orders[order.order_id] = order
            if order.client_order_id:
                account.by_client_id[order.client_order_id] = order
        if would_take:
            if post_only_action is PostOnlyAction.REJECT:
                order.status = OrderStatus.REJECTED
                order.reject_reason = RejectReason.POST_ONLY_WOULD_CROSS
            else:
                order.status = OrderStatus.CANCELED
                order.cancel_reason = CancelReason.POST_ONLY_WOULD_TAKE
            self._emit_order(account, order)
            return order
        fok_short = time_in_force is TimeInForce.FOK and (
            self._fillable(book, side, price, quantity) < quantity
        )
        if fok_short:
            order.status = OrderStatus.CANCELED
            order.cancel_reason = CancelReason.FOK_NOT_FILLABLE
            self._emit_order(account, order)
            return order
        self._emit_order(account, order)
        self._execute_new(account, info, book, order)
        return order

    def _new_order(self, venue: Venue, api_key: str, symbol: str, **fields) -> SimOrder:
        """A fresh order with the venue's next id, nothing filled, stamped now."""
        now = self.clock_ns()
        return SimOrder(
            order_id=str(next(self._order_ids[venue])),
            api_key=api_key,
            venue=venue,
            symbol=symbol,
            filled_quantity=ZERO,
            average_price=None,
            created_ns=now,
            updated_ns=now,
            **fields,
        )

    @staticmethod
    def _check_client_id(
        account: SimAccount, client_order_id: str | None, scope: ClientIdScope
    ) -> None:
        """Refuse a client order id already used within `scope` (DUPLICATE_CLIENT_ORDER_ID)."""
        existing = account.by_client_id.get(client_order_id) if client_order_id else None
        if existing is not None and (existing.is_open or scope is ClientIdScope.ALL):
            raise SimReject(
                RejectReason.DUPLICATE_CLIENT_ORDER_ID,
                f"client order id {client_order_id} is in use",
            )

    def _execute_new(self, account: SimAccount, info, book, order: SimOrder) -> None:
        """Run an accepted order (NEW, already announced with `on_order`): match, then rest
        its remainder (a GTC limit) or cancel it; ends with `_flush`. A triggered conditional
        order comes here too, executing as `order_type.executes_as`."""
        as_limit = order.order_type.executes_as is OrderType.LIMIT
        self._match(account, info, book, order)
        rests = order.remaining > 0 and as_limit and order.time_in_force is TimeInForce.GTC
        if rests:
            book.add(order)
            account.open_orders[order.order_id] = order
            self._dirty_books.add((order.venue, order.symbol))
            if not account.internal:
                self._touch_account(account)
        elif order.remaining > 0:
            account.open_orders.pop(order.order_id, None)
            order.status = OrderStatus.CANCELED
            order.cancel_reason = (
                CancelReason.IOC_REMAINDER if as_limit else CancelReason.MARKET_REMAINDER
            )
            order.updated_ns = self.clock_ns()
        else:
            account.open_orders.pop(order.order_id, None)
        if order.filled_quantity > 0 or order.status is not OrderStatus.NEW:
            self._emit_order(account, order)
        self._flush()

    def amend_order(
        self,
        venue: Venue,
        api_key: str,
        symbol: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        price: Decimal | None = None,
        quantity: Decimal | None = None,
        at_or_below_filled: AmendAtOrBelowFilled = AmendAtOrBelowFilled.REJECT_BELOW,
        trigger_price: Decimal | None = None,
    ) -> SimOrder:
        """Change price and/or total quantity of an open order.

        A new price sends the order to the back of its new level (and it may match at once);
        a smaller quantity keeps its place, a larger one loses it. A quantity at or below the
        filled quantity is handled as `at_or_below_filled` says (`AmendAtOrBelowFilled`).
        An untriggered conditional order can also move its `trigger_price`, and stays off the
        book (`EngineTriggers._amend_untriggered`); any other order has no trigger to move.
        """
        info = self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        order = self._find_open(account, symbol, order_id, client_order_id)
        if order.status is OrderStatus.UNTRIGGERED:
            return self._amend_untriggered(
                account, info, order, price=price, quantity=quantity, trigger_price=trigger_price
            )
        if trigger_price is not None:
            raise SimReject(
                RejectReason.INVALID_TRIGGER_PRICE,
                f"order {order.order_id} is not an untriggered conditional order",
            )
        book = self._books[(venue, symbol)]
        new_price = order.price if price is None else Decimal(price)
        new_quantity = order.quantity if quantity is None else Decimal(quantity)
        if price is not None:
            self._validate_price(info, new_price)
        if quantity is not None:
            self._validate_size(info, new_quantity)
            rule = AmendAtOrBelowFilled(at_or_below_filled)
            filled = order.filled_quantity
            if rule is AmendAtOrBelowFilled.FILL and new_quantity <= filled:
                new_quantity, new_price = filled, order.price
            elif new_quantity < filled or (
                new_quantity == filled and rule is AmendAtOrBelowFilled.REJECT_AT_OR_BELOW
            ):
                raise SimReject(
                    RejectReason.INVALID_SIZE,
                    f"quantity {new_quantity} is not above the filled {filled}",
                )
        if not account.internal and (price is not None or quantity is not None):
            self._validate_notional(info, new_quantity, new_price)
        price_changed = new_price != order.price
        if price_changed and order.post_only:
            opposite_best = book.best(order.side.opposite)
            if opposite_best is not None and self._crosses(order.side, new_price, opposite_best):
                raise SimReject(
                    RejectReason.POST_ONLY_WOULD_CROSS,
                    f"post-only {order.side} at {new_price} would take {opposite_best}",
                )
        if not account.internal and (price_changed or new_quantity > order.quantity):
            extra = (new_quantity - order.filled_quantity, new_price)
            self._check_funds(
                account,
                info,
                book,
                order.side,
                OrderType.LIMIT,
                extra[0],
                extra[1],
                order.reduce_only,
                replacing=order,
            )

        keeps_priority = not price_changed and new_quantity <= order.quantity
        if keeps_priority:
            book.reduce(order.side, order.price, order.quantity - new_quantity)
            order.quantity = new_quantity
        else:
            book.remove(order)
            order.quantity = new_quantity
            order.price = new_price
        order.updated_ns = self.clock_ns()
        self._dirty_books.add((venue, symbol))
        if order.remaining == 0:
            order.status = OrderStatus.FILLED
            account.open_orders.pop(order.order_id, None)
            if keeps_priority:
                book.remove(order)
            self._emit_order(account, order)
        elif keeps_priority:
            self._emit_order(account, order)
        else:
            self._emit_order(account, order)
            before = order.filled_quantity
            self._match(account, info, book, order)
            if order.remaining > 0:
                book.add(order)
            else:
                account.open_orders.pop(order.order_id, None)
            if order.filled_quantity != before:
                self._emit_order(account, order)
        if not account.internal:
            self._touch_account(account)
        self._flush()
        return order

    def cancel_order(
        self,
        venue: Venue,
        api_key: str,
        symbol: str,
        *,
        order_id: str | None = None,
        client_order_id: str | None = None,
        reason: CancelReason = CancelReason.USER,
    ) -> SimOrder:
        """Cancel one open order with `reason` (`DISCONNECT` when a face's cancel-on-disconnect
        fires)."""
        self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        order = self._find_open(account, symbol, order_id, client_order_id)
        self._cancel(account, order, CancelReason(reason))
        self._flush()
        return order

    def cancel_all(
        self,
        venue: Venue,
        api_key: str,
        symbol: str | None = None,
        *,
        reason: CancelReason = CancelReason.CANCEL_ALL,
        conditional: bool = True,
        plain: bool = True,
    ) -> list[SimOrder]:
        """Cancel every open order of the account (in `symbol` only, if given) with `reason`
        (`DEAD_MAN_SWITCH` when a face's countdown fires): the resting ones if `plain`, the
        untriggered conditional ones if `conditional` (a face says what its venue's call
        covers)."""
        if symbol is not None:
            self.instrument(venue, symbol)
        account = self._require_account(venue, api_key)
        pools = [account.open_orders] * plain + [account.conditional_orders] * conditional
        canceled = [
            order
            for pool in pools
            for order in list(pool.values())
            if symbol is None or order.symbol == symbol
        ]
        for order in canceled:
            self._cancel(account, order, CancelReason(reason))
        self._flush()
        return canceled

    def _cancel(self, account: SimAccount, order: SimOrder, reason: CancelReason) -> None:
        self._books[(order.venue, order.symbol)].remove(order)
        self._dirty_books.add((order.venue, order.symbol))
        account.open_orders.pop(order.order_id, None)
        account.conditional_orders.pop(order.order_id, None)
        order.status = OrderStatus.CANCELED
        order.cancel_reason = reason
        order.updated_ns = self.clock_ns()
        if not account.internal:
            self._touch_account(account)
        self._emit_order(account, order)

    def _find_open(
        self, account: SimAccount, symbol: str, order_id: str | None, client_order_id: str | None
    ) -> SimOrder:
        order = self._lookup(account, order_id, client_order_id)
        if order is None or order.symbol != symbol:
            raise SimReject(
                RejectReason.ORDER_NOT_FOUND,
                f"order {order_id or client_order_id} not found in {symbol}",
            )
        if not order.is_open:
            raise SimReject(RejectReason.ORDER_CLOSED, f"order {order.order_id} is {order.status}")
        return order

    @staticmethod
    def _lookup(
        account: SimAccount, order_id: str | None, client_order_id: str | None
    ) -> SimOrder | None:
        if order_id:
            order = account.orders.get(order_id) or account.open_orders.get(order_id)
            if order is not None and client_order_id and order.client_order_id != client_order_id:
                return None
            return order
        if client_order_id:
            return account.by_client_id.get(client_order_id)
        return None
