"""Deribit JSON-RPC errors: `RpcError` (code, message, data) and the engine-refusal to error
table ("Error Codes").
"""

from __future__ import annotations

from typing import Any

from exchanges.simulator.engine.records import RejectReason, SimReject
from exchanges.venues.base import TriggerDirection


class RpcError(Exception):
    """A JSON-RPC error answer: Deribit code, short message, optional data."""

    def __init__(self, code: int, message: str, data: Any = None, *, http_status: int = 400):
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.data = data
        self.http_status = http_status

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def unauthorized_error(reason: str = "") -> RpcError:
    return RpcError(13009, "unauthorized", {"reason": reason} if reason else None, http_status=401)


def invalid_credentials_error(reason: str = "") -> RpcError:
    return RpcError(
        13004, "invalid_credentials", {"reason": reason} if reason else None, http_status=401
    )


def invalid_params_error(param: str, reason: str) -> RpcError:
    return RpcError(-32602, "Invalid params", {"reason": reason, "param": param})


def too_many_requests_error() -> RpcError:
    return RpcError(10028, "too_many_requests", http_status=429)


# Engine rejections in Deribit's words ("RPC Error Codes").
REJECT_ERRORS: dict[RejectReason, tuple[int, str]] = {
    RejectReason.INSUFFICIENT_FUNDS: (10009, "not_enough_funds"),
    RejectReason.POST_ONLY_WOULD_CROSS: (11054, "post_only_reject"),
    RejectReason.REDUCE_ONLY: (11030, "other_reject reduce_only"),
    RejectReason.INVALID_PRICE: (10023, "invalid_price"),
    RejectReason.INVALID_SIZE: (10021, "invalid_amount"),
    RejectReason.BELOW_MIN_NOTIONAL: (10002, "qty_too_low"),  # no Deribit instrument has one
    RejectReason.ORDER_NOT_FOUND: (10004, "order_not_found"),
    RejectReason.ORDER_CLOSED: (11044, "not_open_order"),
    RejectReason.DUPLICATE_CLIENT_ORDER_ID: (13032, "non_unique_order_label"),
    RejectReason.UNKNOWN_INSTRUMENT: (10020, "invalid_or_unsupported_instrument"),
    RejectReason.FOK_NOT_FILLABLE: (11030, "other_reject fill_or_kill"),
    RejectReason.NO_LIQUIDITY: (11030, "other_reject no_liquidity"),
    RejectReason.INVALID_TRIGGER_PRICE: (11036, "invalid_trigger_price"),
}

# A trigger price the watched price has already reached: a trigger that must be reached by a
# rise is too low, one that must be reached by a fall too high ("RPC Error Codes" 10035
# trigger_price_too_low, 10034 trigger_price_too_high; formerly stop_price_too_*).
TRIGGER_REACHED_ERRORS: dict[TriggerDirection, tuple[int, str]] = {
    TriggerDirection.RISE: (10035, "trigger_price_too_low"),
    TriggerDirection.FALL: (10034, "trigger_price_too_high"),
}
TRIGGER_WRONG_TICK = (10044, "trigger_price_wrong_tick")


def reject_error(reject: SimReject) -> RpcError:
    code, message = REJECT_ERRORS.get(reject.reason, (10001, "error"))
    return RpcError(code, message, {"reason": reject.message})
