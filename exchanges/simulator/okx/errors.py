"""OKX error answers: `OkxError` (code, message, HTTP status) and the engine-refusal to
`sCode` table ("Error Code").
"""

from __future__ import annotations

from exchanges.simulator.engine.records import RejectReason, SimReject
from exchanges.venues.base import InstrumentInfo, InstrumentKind


class OkxError(Exception):
    """An answer in OKX's error envelope: `{"code": code, "msg": msg, "data": []}`."""

    def __init__(self, code: str, msg: str, status: int = 200):
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status


def param_error(name: str) -> OkxError:
    return OkxError("51000", f"Parameter {name} error", 400)


def empty_param(name: str) -> OkxError:
    return OkxError("50014", f"Parameter {name} can not be empty.", 400)


def reject_code(reject: SimReject, operation: str, info: InstrumentInfo | None) -> tuple[str, str]:
    """The OKX per-order `sCode`/`sMsg` of an engine rejection ("Error Code", Trade Class)."""
    reason = reject.reason
    if reason is RejectReason.INSUFFICIENT_FUNDS:
        if operation == "amend":
            return "51502", "Unable to edit order: insufficient balance or margin."
        ccy = (
            ""
            if info is None
            else (info.quote if info.kind is InstrumentKind.SPOT else info.settle)
        )
        what = "balance" if info is not None and info.kind is InstrumentKind.SPOT else "margin"
        return "51008", f"Order failed. Insufficient {ccy} {what} in account"
    if reason is RejectReason.POST_ONLY_WOULD_CROSS:
        if operation == "amend":
            return (
                "51511",
                "Modification failed as the order price did not meet the requirement for Post Only.",
            )
        return "51000", "Parameter ordType error"
    if reason is RejectReason.REDUCE_ONLY:
        if info is not None and info.kind is InstrumentKind.SPOT:
            return (
                "51139",
                "Reduce-only feature is unavailable for the spot transactions by spot mode.",
            )
        return (
            "51169",
            "Order failed because you don't have any positions in this direction for this "
            "contract to reduce or close.",
        )
    if reason is RejectReason.INVALID_PRICE:
        return "51000", "Parameter px error" if operation != "amend" else "Parameter newPx error"
    if reason is RejectReason.INVALID_SIZE:
        text = reject.message
        if "minimum" in text:
            return "51020", "Your order should meet or exceed the minimum order amount."
        if "multiple of the lot" in text:
            return "51121", "Order quantity must be a multiple of the lot size."
        return "51000", "Parameter sz error" if operation != "amend" else "Parameter newSz error"
    if reason in (RejectReason.ORDER_NOT_FOUND, RejectReason.ORDER_CLOSED):
        if operation == "amend":
            return "51503", "Your order has already been filled or canceled."
        if operation == "cancel":
            return (
                "51400",
                "Order cancellation failed as the order has been filled, canceled or does not exist.",
            )
        return "51603", "Order does not exist."
    if reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID:
        return "51016", "Client order ID already exists."
    if reason is RejectReason.UNKNOWN_INSTRUMENT:
        return "51001", "Instrument ID, Instrument ID code or Spread ID doesn't exist."
    if reason is RejectReason.NO_LIQUIDITY:
        return "51109", "No available offers."
    if reason is RejectReason.INVALID_TRIGGER_PRICE:
        # the direction-specific codes (51277..51308) are chosen in algo_wire.trigger_refusal,
        # which knows the order's kind and side; this is the table's generic answer
        return "51280", "SL trigger price cannot be higher than the last price."
    return "51000", "Parameter ordType error"
