"""Bybit error answers: `BybitError` (retCode, retMsg) and the engine-refusal to retCode table
("Error Codes").
"""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.engine.records import RejectReason, SimReject
from exchanges.venues.base import TriggerDirection


class BybitError(Exception):
    """A request Bybit answers with a non-zero retCode (and, for a few, a non-200 status)."""

    def __init__(
        self, code: int, message: str, *, status: int = 200, headers: dict[str, str] | None = None
    ):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


# (engine refusal, spot?) -> (retCode, retMsg) (docs "Error Codes": UTA 110xxx, spot 170xxx).
REJECT_CODES: dict[tuple[RejectReason, bool], tuple[int, str]] = {
    (RejectReason.INSUFFICIENT_FUNDS, False): (110007, "ab not enough for new order"),
    (RejectReason.INSUFFICIENT_FUNDS, True): (170131, "Insufficient balance."),
    (RejectReason.REDUCE_ONLY, False): (110017, "Reduce-only rule not satisfied"),
    (RejectReason.REDUCE_ONLY, True): (110017, "Reduce-only rule not satisfied"),
    (RejectReason.DUPLICATE_CLIENT_ORDER_ID, False): (110072, "OrderLinkedID is duplicate"),
    (RejectReason.DUPLICATE_CLIENT_ORDER_ID, True): (170141, "Duplicate clientOrderId"),
    (RejectReason.UNKNOWN_INSTRUMENT, False): (10001, "params error: symbol invalid"),
    (RejectReason.UNKNOWN_INSTRUMENT, True): (170121, "Invalid symbol."),
    (RejectReason.NO_LIQUIDITY, False): (
        110118,
        "Unable to retrieve a price of the market order due to low liquidity",
    ),
    (RejectReason.NO_LIQUIDITY, True): (170210, "New order rejected."),
    (RejectReason.BELOW_MIN_NOTIONAL, False): (
        110094,
        "Order notional value below the lower limit",
    ),
    (RejectReason.BELOW_MIN_NOTIONAL, True): (170140, "Order value exceeded lower limit"),
    (RejectReason.ORDER_NOT_FOUND, True): (170213, "Order does not exist."),
    (RejectReason.ORDER_CLOSED, True): (170213, "Order does not exist."),
    # A trigger off the tick or not positive; one already reached is `trigger_reached_error`.
    (RejectReason.INVALID_TRIGGER_PRICE, False): (10001, "params error: triggerPrice invalid"),
    (RejectReason.INVALID_TRIGGER_PRICE, True): (
        170130,
        "Data sent for paramter 'triggerPrice' is not valid.",
    ),
}


def trigger_reached_error(
    direction: TriggerDirection, trigger: Decimal, current: Decimal, trigger_by: str
) -> BybitError:
    """A conditional order whose trigger the watched price has already reached (docs "Error
    Codes", UTA: 110092 "expect Rising, but trigger_price[XXXXX] <= current[XXXXX]??last",
    110093 the same for Falling)."""
    if direction is TriggerDirection.RISE:
        return BybitError(
            110092,
            f"expect Rising, but trigger_price[{trigger}] <= current[{current}]??{trigger_by}",
        )
    return BybitError(
        110093, f"expect Falling, but trigger_price[{trigger}] >= current[{current}]??{trigger_by}"
    )


def reject_error(reject: SimReject, category: str, action: str) -> BybitError:
    """Bybit's answer to an engine refusal; `action` is create, amend or cancel."""
    spot = category == "spot"
    reason, text = reject.reason, reject.message
    known = REJECT_CODES.get((reason, spot))
    if known is not None:
        return BybitError(*known)
    if reason in (RejectReason.ORDER_NOT_FOUND, RejectReason.ORDER_CLOSED):
        verb = "replace" if action == "amend" else "cancel"
        return BybitError(110001, f"order not exists or too late to {verb}")
    if reason is RejectReason.INVALID_SIZE and "filled" in text:
        if spot:
            return BybitError(
                170313, "The modified contract quantity cannot be less than to the filled quantity"
            )
        return BybitError(
            110064,
            "The modified contract quantity cannot be less than or equal to the filled quantity.",
        )
    if spot and reason is RejectReason.INVALID_SIZE:
        if "minimum" in text:
            return BybitError(170136, "Order quantity lower than the minimum.")
        return BybitError(170137, "Order volume decimal too long")
    if spot and reason is RejectReason.INVALID_PRICE:
        if "tick" in text:
            return BybitError(170134, "Order price decimal too long.")
        return BybitError(170130, "Data sent for paramter 'price' is not valid.")
    return BybitError(10001, f"params error: {text}")
