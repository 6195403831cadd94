"""The engine-refusal to Deribit error table and the error body (deribit/errors.py)."""

from __future__ import annotations

from exchanges.simulator.deribit.errors import REJECT_ERRORS, RpcError
from exchanges.simulator.engine.records import RejectReason


def test_every_engine_rejection_has_a_deribit_error():
    assert set(REJECT_ERRORS) == set(RejectReason)
    assert REJECT_ERRORS[RejectReason.INSUFFICIENT_FUNDS] == (10009, "not_enough_funds")
    assert REJECT_ERRORS[RejectReason.POST_ONLY_WOULD_CROSS] == (11054, "post_only_reject")
    assert REJECT_ERRORS[RejectReason.ORDER_NOT_FOUND] == (10004, "order_not_found")
    assert REJECT_ERRORS[RejectReason.ORDER_CLOSED] == (11044, "not_open_order")


def test_error_body_omits_absent_data():
    assert RpcError(10028, "too_many_requests").body() == {
        "code": 10028,
        "message": "too_many_requests",
    }
    assert RpcError(13009, "unauthorized", {"reason": "x"}).body() == {
        "code": 13009,
        "message": "unauthorized",
        "data": {"reason": "x"},
    }
