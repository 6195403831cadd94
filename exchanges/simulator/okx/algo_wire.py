"""OKX algo orders as the face shows them: the one-way stop loss / take profit (`ordType`
`conditional`) JSON of "Algo order list", "Algo order details" and the `orders-algo` channel,
its states, the refusal codes of a trigger already reached, and the ids the order the trigger
places carries on the `orders` channel and in `/trade/order(s)`.

Facts (OKX docs-v5, "Order Book Trading > Algo Trading"; scraped copy in rosssaunders/coincise
docs/okx/endpoints/*/..._algo_order*.md; error table docs/okx/error_code.md):
- The algo has its own id (`algoId`) and client id (`algoClOrdId`); when it fires it places a
  plain order with its own `ordId`, whose `clOrdId` is "" and which carries `algoId` and
  `algoClOrdId` ("Order channel": "There will be a value when algo order is triggered") and
  `source` "7" ("The normal order triggered by the TP/SL order").
- States: `live` (waiting), `effective` (fired and placed), `canceled`, `order_failed` (fired
  but the order could not be placed; `failCode` is its error code, e.g. 51008).
- A trigger already reached by the price it watches is refused with 51277..51280 (last),
  51300..51304 (mark), 51305..51308 (index): "TP/SL trigger price cannot be higher/lower than
  the last/mark/index price".
- Key set of an algo object: the recorded `orders-algo` push (nautilus_trader test_data
  ws_orders_algo.json) plus the conditional fields of "Algo order list".
"""

from __future__ import annotations

from typing import Any

from exchanges.simulator.engine.records import CancelReason, SimFill, SimOrder, SimReject
from exchanges.simulator.okx.constants import VENUE
from exchanges.simulator.okx.errors import reject_code
from exchanges.simulator.okx.wire import ms, s
from exchanges.venues.base import (
    InstrumentKind,
    OrderStatus,
    OrderType,
    TriggerDirection,
    TriggerPrice,
)

# "TP/SL trigger price cannot be higher/lower than the ... price": (stop?, direction) picks
# the sentence, the watched price its code.
_REACHED: dict[tuple[bool, TriggerDirection], tuple[str, str, dict[TriggerPrice, str]]] = {
    # a buy take profit fires on a fall: its trigger must be below the price
    (False, TriggerDirection.FALL): (
        "TP",
        "higher",
        {TriggerPrice.LAST: "51277", TriggerPrice.MARK: "51300", TriggerPrice.INDEX: "51305"},
    ),
    # a buy stop fires on a rise: its trigger must be above the price
    (True, TriggerDirection.RISE): (
        "SL",
        "lower",
        {TriggerPrice.LAST: "51278", TriggerPrice.MARK: "51302", TriggerPrice.INDEX: "51306"},
    ),
    # a sell take profit fires on a rise
    (False, TriggerDirection.RISE): (
        "TP",
        "lower",
        {TriggerPrice.LAST: "51279", TriggerPrice.MARK: "51303", TriggerPrice.INDEX: "51307"},
    ),
    # a sell stop fires on a fall
    (True, TriggerDirection.FALL): (
        "SL",
        "higher",
        {TriggerPrice.LAST: "51280", TriggerPrice.MARK: "51304", TriggerPrice.INDEX: "51308"},
    ),
}


TRIGGER_PX_TYPES = {
    "last": TriggerPrice.LAST,
    "mark": TriggerPrice.MARK,
    "index": TriggerPrice.INDEX,
}


def trigger_refusal(
    reject: SimReject,
    order_type: OrderType,
    direction: TriggerDirection,
    trigger_by: TriggerPrice,
    *,
    amend: bool = False,
) -> tuple[str, str]:
    """The `sCode`/`sMsg` of an INVALID_TRIGGER_PRICE refusal: off the tick is a parameter
    error of the trigger field (`newSlTriggerPx`/`newTpTriggerPx` when `amend`); an already
    reached trigger has its own code, on placement and amendment alike."""
    field = "slTriggerPx" if order_type.is_stop else "tpTriggerPx"
    if amend:
        field = "new" + field[0].upper() + field[1:]
    if reject.watched is None:  # not reached: off the tick or not positive
        return "51000", f"Parameter {field} error"
    kind, word, codes = _REACHED[(order_type.is_stop, direction)]
    return codes[trigger_by], f"{kind} trigger price cannot be {word} than the {trigger_by} price."


def algo_state(order: SimOrder) -> str:
    if order.is_untriggered:
        return "live"
    if order.status is OrderStatus.CANCELED and order.cancel_reason is CancelReason.TRIGGER_FAILED:
        return "order_failed"
    if order.triggered_ns is None:
        return "canceled"
    return "effective"


def is_algo(order: SimOrder) -> bool:
    return order.order_type.is_conditional


class OkxAlgoWire:
    """Algo order JSON and the wire ids of the orders a trigger places."""

    def _wire_ids(self, order: SimOrder) -> tuple[str, str]:
        """(`ordId`, `clOrdId`) of an order on the plain-order endpoints: a fired algo's order
        has the second id and no client id of its own."""
        if is_algo(order):
            return order.triggered_order_id or "", ""
        return order.order_id, order.client_order_id or ""

    def _fill_ids(self, fill: SimFill) -> tuple[str, str]:
        """(`ordId`, `clOrdId`) of a fill: those of its order on the plain endpoints."""
        order = self.engine.get_order(VENUE, fill.api_key, order_id=fill.order_id)
        if order is None:
            return fill.order_id, fill.client_order_id or ""
        return self._wire_ids(order)

    def _plain_lookup(self, order: SimOrder | None, ord_id: str) -> SimOrder | None:
        """`order` as the plain-order endpoints see it: an algo is known there only once fired,
        and only by the `ordId` of the order it placed (not by `algoId` or `algoClOrdId`)."""
        if order is None or not is_algo(order):
            return order
        if order.triggered_ns is None or order.cancel_reason is CancelReason.TRIGGER_FAILED:
            return None
        return order if ord_id and ord_id == order.triggered_order_id else None

    def _algo_fields(self, order: SimOrder) -> dict[str, str]:
        """The `algoId`/`algoClOrdId`/`source` an order carries on the plain endpoints."""
        if not is_algo(order):
            return {}
        return {"algoId": order.order_id, "algoClOrdId": order.client_order_id or "", "source": "7"}

    def _algo_json(self, order: SimOrder) -> dict[str, Any]:
        """A conditional algo order (REST lists and details, `orders-algo` pushes)."""
        info = self.instruments[order.symbol]
        meta = self._meta_of(order)
        state = algo_state(order)
        stop = order.order_type.is_stop
        ord_px = s(order.price) if order.order_type.has_price else "-1"
        trigger = s(order.trigger_price)
        by = str(order.trigger_by or TriggerPrice.LAST)
        fired = state == "effective"
        fail_code = ""
        if state == "order_failed" and order.reject_reason is not None:
            fail_code = reject_code(SimReject(order.reject_reason, ""), "place", info)[0]
        spot = info.kind is InstrumentKind.SPOT
        lever = "" if spot else s(self.engine.leverage_of(VENUE, order.api_key, order.symbol))
        ord_id = order.triggered_order_id if fired else ""
        return {
            "algoId": order.order_id,
            "algoClOrdId": order.client_order_id or "",
            "clOrdId": "",
            "ordId": ord_id,
            "ordIdList": [ord_id] if ord_id else [],
            "instId": order.symbol,
            "instType": self._inst_type(info),
            "ordType": "conditional",
            "state": state,
            "side": order.side.value,
            "posSide": "net",
            "sz": s(order.quantity),
            "tdMode": meta.td_mode,
            "lever": lever,
            "reduceOnly": "true" if order.reduce_only else "false",
            "slTriggerPx": trigger if stop else "",
            "slTriggerPxType": by if stop else "",
            "slOrdPx": ord_px if stop else "",
            "tpTriggerPx": "" if stop else trigger,
            "tpTriggerPxType": "" if stop else by,
            "tpOrdPx": "" if stop else ord_px,
            "triggerPx": "",
            "triggerPxType": "",
            "ordPx": "",
            "actualPx": ord_px if fired else "",
            "actualSz": s(order.quantity) if fired else "0",
            "actualSide": ("sl" if stop else "tp") if fired else "",
            "triggerTime": ms(order.triggered_ns) if order.triggered_ns else "",
            "failCode": fail_code,
            "tag": meta.tag,
            "cTime": ms(order.created_ns),
            "uTime": ms(order.updated_ns),
        }
