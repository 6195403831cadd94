"""Deribit trading methods: `private/buy`, `sell`, `edit`, `edit_by_label`, `cancel`,
`cancel_by_label`, `cancel_all*` ("Trading").

Trigger orders: `type` stop_market, stop_limit, take_market or take_limit with `trigger_price`
and `trigger` (index_price, mark_price, last_price; required, "-32602 trigger is required"),
`price` for the limit kinds. A buy stop and a sell take fire when the watched price rises to the
trigger, a sell stop and a buy take when it falls to it; a trigger already reached is refused
with 10035 trigger_price_too_low (a rise is needed) or 10034 trigger_price_too_high (a fall),
one off the tick with 10044 trigger_price_wrong_tick. The order waits `untriggered` under a
trigger-order id; when it fires the order it places gets a new `order_id` with
`trigger_order_id` naming the trigger order (`DeribitWire._order_data`). `private/cancel` by
the trigger-order id cancels it while untriggered; `cancel_all` and `cancel_all_by_*` (type
`all`, the default) cover trigger orders, `cancel_by_label` too.

`private/edit` (and `edit_by_label`) of an untriggered trigger order takes `amount` (required,
as for any edit), `price` for the limit kinds and `trigger_price` ("required for trigger
orders only"), checked as at placement (10035/10034 reached, 10044 off the tick, 11036 not
positive; a price on a market kind 10023 invalid_price, inferred) and answers `{"order",
"trades": []}` with the new trigger. A `trigger_price` on any other order is refused with
11036 invalid_trigger_price (inferred: the docs name no code for it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from exchanges.simulator.deribit.constants import (
    ONE,
    ORDER_TYPE_FROM_WIRE,
    TIF_FROM_WIRE,
    TRIGGER_FROM_WIRE,
    TRIGGER_TO_WIRE,
    VENUE,
)
from exchanges.simulator.deribit.errors import (
    TRIGGER_REACHED_ERRORS,
    TRIGGER_WRONG_TICK,
    RpcError,
    invalid_params_error,
    reject_error,
)
from exchanges.simulator.deribit.rpc import Call
from exchanges.simulator.deribit.wire import (
    instrument_kind,
    is_trigger_order_id,
    ms,
    param_boolean,
    param_decimal,
    param_integer,
    param_text,
)
from exchanges.simulator.engine.records import RejectReason, SimAccount, SimOrder, SimReject
from exchanges.venues.base import (
    InstrumentInfo,
    InstrumentKind,
    OrderType,
    Side,
    TimeInForce,
    TriggerDirection,
    TriggerPrice,
    trigger_direction,
)


class DeribitTrading:
    """Deribit order-entry method handlers."""

    async def _private_buy(self, call: Call, params: dict) -> dict:
        return self._place(call, params, Side.BUY)

    async def _private_sell(self, call: Call, params: dict) -> dict:
        return self._place(call, params, Side.SELL)

    def _amount(self, params: dict, info: InstrumentInfo, *, required: bool) -> Decimal | None:
        amount = param_decimal(params, "amount")
        contracts = param_decimal(params, "contracts")
        if contracts is not None:
            from_contracts = contracts * info.contract_size
            if amount is not None and amount != from_contracts:
                raise invalid_params_error("contracts", "amount and contracts do not match")
            amount = from_contracts
        if amount is None:
            if required:
                raise invalid_params_error("amount", "value required")
            return None
        if amount <= 0:
            raise RpcError(
                10021, "invalid_amount", {"reason": "must be positive", "param": "amount"}
            )
        if amount < info.min_size:
            raise RpcError(10002, "qty_too_low", {"reason": f"minimum is {info.min_size}"})
        if amount % info.lot_size != 0:
            raise RpcError(
                10021,
                "invalid_amount",
                {"reason": f"must be a multiple of {info.lot_size}", "param": "amount"},
            )
        return amount

    def _price(self, params: dict, info: InstrumentInfo, side: Side) -> Decimal | None:
        price = param_decimal(params, "price")
        if price is None:
            return None
        if price <= 0:
            raise RpcError(10023, "invalid_price", {"reason": "must be positive", "param": "price"})
        if price % info.tick_size != 0:
            raise RpcError(10043, "price_wrong_tick", {"reason": f"tick is {info.tick_size}"})
        low, high = self._price_band(info)
        if high is not None and side is Side.BUY and price > high:
            raise RpcError(10007, f"price_too_high {high}")
        if low is not None and side is Side.SELL and price < low:
            raise RpcError(10005, f"price_too_low {low}")
        return price

    def _price_band(self, info: InstrumentInfo) -> tuple[Decimal | None, Decimal | None]:
        if info.kind is InstrumentKind.OPTION:
            return None, None
        mark = self.engine.mark_price(VENUE, info.venue_symbol)
        band = Decimal(str(self.options["price_band"]))
        high = (mark * (ONE + band) / info.tick_size).to_integral_value(
            ROUND_FLOOR
        ) * info.tick_size
        low = (mark * (ONE - band) / info.tick_size).to_integral_value(
            ROUND_CEILING
        ) * info.tick_size
        return low, high

    def _post_only_price(
        self, info: InstrumentInfo, side: Side, price: Decimal, reject: bool
    ) -> Decimal:
        """Deribit re-prices a crossing post-only order just inside the spread unless
        `reject_post_only` is set (private/buy "post_only")."""
        if reject:
            return price
        bids, asks = self.engine.book(VENUE, info.venue_symbol, 1)
        if side is Side.BUY and asks and price >= asks[0][0]:
            return asks[0][0] - info.tick_size
        if side is Side.SELL and bids and price <= bids[0][0]:
            return bids[0][0] + info.tick_size
        return price

    def _check_valid_until(self, params: dict) -> None:
        valid_until = param_integer(params, "valid_until")
        if valid_until is not None and ms(self.engine.clock_ns()) > valid_until:
            raise RpcError(13888, "timed_out")

    def _place(self, call: Call, params: dict, side: Side) -> dict:
        account = call.account
        self._check_valid_until(params)
        info = self._info(params)
        amount = self._amount(params, info, required=True)
        wire_type = param_text(params, "type", "limit")
        order_type = ORDER_TYPE_FROM_WIRE.get(wire_type)
        if order_type is None:
            raise RpcError(11030, f"other_reject order type {wire_type} not supported")
        tif_text = param_text(params, "time_in_force", "good_til_cancelled")
        if tif_text not in TIF_FROM_WIRE:
            raise invalid_params_error("time_in_force", "unsupported value")
        tif = TIF_FROM_WIRE[tif_text]
        post_only = param_boolean(params, "post_only")
        reject_post_only = param_boolean(params, "reject_post_only")
        reduce_only = param_boolean(params, "reduce_only")
        label = param_text(params, "label", "")
        if len(label) > 64:
            raise invalid_params_error("label", "at most 64 characters")
        if post_only and tif is not TimeInForce.GTC:
            raise RpcError(11055, "post_only_not_allowed")
        price = None
        if order_type.has_price:
            price = self._price(params, info, side)
            if price is None:
                raise invalid_params_error("price", "value required")
            if post_only and not order_type.is_conditional:
                price = self._post_only_price(info, side, price, reject_post_only)
        elif post_only:
            raise RpcError(11055, "post_only_not_allowed")
        if order_type.is_conditional:
            order = self._place_trigger(
                call, params, info, side, order_type, amount, price, tif, reduce_only, label
            )
            return {"order": self._order_data(order), "trades": []}
        self._placing = (account.api_key, label, post_only and reject_post_only, call.conn)
        with self._capturing(account.api_key) as trades:
            try:
                order = self.engine.place_order(
                    VENUE,
                    account.api_key,
                    info.venue_symbol,
                    side=side,
                    order_type=order_type,
                    quantity=amount,
                    price=price,
                    time_in_force=tif,
                    post_only=post_only,
                    reduce_only=reduce_only,
                )
            except SimReject as reject:
                raise reject_error(reject) from None
            finally:
                self._placing = None
        return {
            "order": self._order_data(order),
            "trades": [data for order_id, data in trades if order_id == order.order_id],
        }

    def _place_trigger(
        self,
        call: Call,
        params: dict,
        info: InstrumentInfo,
        side: Side,
        order_type: OrderType,
        amount: Decimal,
        price: Decimal | None,
        tif: TimeInForce,
        reduce_only: bool,
        label: str,
    ) -> SimOrder:
        """A stop or take order, untriggered (module doc)."""
        trigger_price = param_decimal(params, "trigger_price")
        if trigger_price is None:
            raise invalid_params_error("trigger_price", "trigger_price is required")
        wire_trigger = param_text(params, "trigger")
        if wire_trigger is None:
            raise invalid_params_error("trigger", "trigger is required")
        trigger_by = TRIGGER_FROM_WIRE.get(wire_trigger)
        if trigger_by is None:
            raise invalid_params_error("trigger", "unsupported value")
        self._check_trigger_price(trigger_price, info)
        direction = trigger_direction(order_type, side)
        self._placing = (call.account.api_key, label, False, call.conn)
        try:
            return self.engine.place_conditional(
                VENUE,
                call.account.api_key,
                info.venue_symbol,
                side=side,
                order_type=order_type,
                quantity=amount,
                trigger_price=trigger_price,
                trigger_by=trigger_by,
                price=price,
                time_in_force=tif,
                reduce_only=reduce_only,
                assign_triggered_id=True,
            )
        except SimReject as reject:
            raise self._trigger_refusal(reject, direction, trigger_by) from None
        finally:
            self._placing = None

    def _check_trigger_price(self, trigger_price: Decimal, info: InstrumentInfo) -> None:
        if trigger_price <= 0:
            raise RpcError(11036, "invalid_trigger_price", {"reason": "must be positive"})
        if trigger_price % info.tick_size != 0:
            raise RpcError(*TRIGGER_WRONG_TICK, {"reason": f"tick is {info.tick_size}"})

    @staticmethod
    def _trigger_refusal(
        reject: SimReject, direction: TriggerDirection, trigger_by: TriggerPrice
    ) -> RpcError:
        """Deribit's answer to an engine refusal of a trigger order placed or edited: 10035 /
        10034 when the watched price has already reached the trigger, else `reject_error`."""
        if reject.reason is RejectReason.INVALID_TRIGGER_PRICE and reject.watched is not None:
            code, message = TRIGGER_REACHED_ERRORS[direction]
            reason = f"{TRIGGER_TO_WIRE[trigger_by]} is {reject.watched}"
            return RpcError(code, message, {"reason": reason})
        return reject_error(reject)

    @contextmanager
    def _capturing(self, api_key: str) -> Iterator[list[tuple[str, dict]]]:
        """Collect the user trades `api_key` gets during one engine call: the `trades` of
        private/buy, private/sell and private/edit answers."""
        trades: list[tuple[str, dict]] = []
        self._capture, self._capture_key = trades, api_key
        try:
            yield trades
        finally:
            self._capture = None

    def _find_order(self, account: SimAccount, wire_id: str) -> SimOrder:
        order = self.engine.get_order(VENUE, account.api_key, order_id=self._engine_id(wire_id))
        if order is None:
            raise RpcError(10004, "order_not_found")
        return order

    def _open_orders(self, account: SimAccount, symbol: str | None = None) -> list[SimOrder]:
        """The account's open orders: resting ones, then untriggered trigger orders."""
        return self.engine.open_orders(
            VENUE, account.api_key, symbol
        ) + self.engine.conditional_orders(VENUE, account.api_key, symbol)

    def _open_by_label(
        self, account: SimAccount, label: str, info: InstrumentInfo | None = None
    ) -> list[SimOrder]:
        return [
            o
            for o in self._open_orders(account)
            if self._labels.get(o.order_id) == label
            and (info is None or o.symbol == info.venue_symbol)
        ]

    async def _private_edit(self, call: Call, params: dict) -> dict:
        order_id = param_text(params, "order_id", required=True)
        order = self._find_order(call.account, order_id)
        return self._edit(call, params, order)

    async def _private_edit_by_label(self, call: Call, params: dict) -> dict:
        label = param_text(params, "label", required=True)
        info = self._info(params)
        orders = self._open_by_label(call.account, label, info)
        if not orders:
            raise RpcError(10004, "order_not_found")
        if len(orders) > 1:
            raise RpcError(13032, "non_unique_order_label")
        return self._edit(call, params, orders[0])

    def _edit(self, call: Call, params: dict, order: SimOrder) -> dict:
        account = call.account
        self._check_valid_until(params)
        info = self.instruments[order.symbol]
        if not order.is_open:
            raise RpcError(11044, "not_open_order")
        amount = self._amount(params, info, required=True)
        price = self._price(params, info, order.side)
        trigger_price = param_decimal(params, "trigger_price")
        if order.is_untriggered:
            return self._edit_trigger(call, order, info, amount, price, trigger_price)
        post_only = param_boolean(params, "post_only", order.post_only)
        reject = param_boolean(params, "reject_post_only", order.order_id in self._reject_post_only)
        if price is not None and post_only:
            price = self._post_only_price(info, order.side, price, reject)
        with self._capturing(account.api_key) as trades:
            try:
                self.engine.amend_order(
                    VENUE,
                    account.api_key,
                    order.symbol,
                    order_id=order.order_id,
                    price=price,
                    quantity=amount,
                    trigger_price=trigger_price,
                )
            except SimReject as rejected:
                raise reject_error(rejected) from None
        self._replaced.add(order.order_id)
        return {
            "order": self._order_data(order),
            "trades": [data for order_id, data in trades if order_id == order.order_id],
        }

    def _edit_trigger(
        self,
        call: Call,
        order: SimOrder,
        info: InstrumentInfo,
        amount: Decimal,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> dict:
        """private/edit of an untriggered trigger order (module doc): its amount, its limit
        price and its trigger_price change, and it keeps waiting under its trigger-order id."""
        if trigger_price is not None:
            self._check_trigger_price(trigger_price, info)
        try:
            self.engine.amend_order(
                VENUE,
                call.account.api_key,
                order.symbol,
                order_id=order.order_id,
                price=price,
                quantity=amount,
                trigger_price=trigger_price,
            )
        except SimReject as reject:
            raise self._trigger_refusal(reject, order.trigger_direction, order.trigger_by) from None
        self._replaced.add(order.order_id)
        return {"order": self._order_data(order), "trades": []}

    async def _private_cancel(self, call: Call, params: dict) -> dict:
        wire_id = param_text(params, "order_id", required=True)
        order = self._find_order(call.account, wire_id)
        fired_trigger = is_trigger_order_id(wire_id) and order.triggered_ns is not None
        if not order.is_open or fired_trigger:
            raise RpcError(11044, "not_open_order")
        try:
            self.engine.cancel_order(
                VENUE, call.account.api_key, order.symbol, order_id=order.order_id
            )
        except SimReject as rejected:
            raise reject_error(rejected) from None
        return self._order_data(order)

    def _cancel_many(self, account: SimAccount, orders: list[SimOrder]) -> int:
        count = 0
        with self.engine.batch_book_updates():
            for order in orders:
                try:
                    self.engine.cancel_order(
                        VENUE, account.api_key, order.symbol, order_id=order.order_id
                    )
                except SimReject:
                    continue
                count += 1
        return count

    async def _private_cancel_by_label(self, call: Call, params: dict) -> int:
        label = param_text(params, "label", required=True)
        currency = param_text(params, "currency")
        orders = [
            o
            for o in self._open_by_label(call.account, label)
            if currency is None or self.instruments[o.symbol].base == currency
        ]
        return self._cancel_many(call.account, orders)

    async def _private_cancel_all(self, call: Call, params: dict) -> int:
        """ "Cancels all open orders and trigger orders" of the account."""
        return self._cancel_many(call.account, self._open_orders(call.account))

    async def _private_cancel_all_by_instrument(self, call: Call, params: dict) -> int:
        info = self._info(params)
        orders = self._open_orders(call.account, info.venue_symbol)
        return self._cancel_many(call.account, self._by_type(orders, params))

    async def _private_cancel_all_by_currency(self, call: Call, params: dict) -> int:
        currency = self._currency(params, allow_any=False)
        kind = param_text(params, "kind", "any")
        orders = [
            o
            for o in self._open_orders(call.account)
            if self.instruments[o.symbol].base == currency
            and kind in ("any", instrument_kind(self.instruments[o.symbol]))
        ]
        return self._cancel_many(call.account, self._by_type(orders, params))
