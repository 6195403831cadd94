"""The engine-refusal to OKX `sCode` table (okx/errors.py)."""

from __future__ import annotations

import pytest

from exchanges.simulator.engine.records import RejectReason, SimReject
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.simulator.okx.errors import reject_code
from exchanges.venues.base import Venue

SWAP = next(
    i for i in DEFAULT_INSTRUMENTS if i.venue is Venue.OKX and i.venue_symbol == "BTC-USDT-SWAP"
)


SPOT = next(i for i in DEFAULT_INSTRUMENTS if i.venue is Venue.OKX and i.venue_symbol == "BTC-USDT")


@pytest.mark.parametrize(
    ("reason", "message", "operation", "info", "code"),
    [
        (RejectReason.INSUFFICIENT_FUNDS, "", "place", SWAP, "51008"),
        (RejectReason.INSUFFICIENT_FUNDS, "", "amend", SWAP, "51502"),
        (RejectReason.POST_ONLY_WOULD_CROSS, "", "amend", SWAP, "51511"),
        (RejectReason.REDUCE_ONLY, "", "place", SWAP, "51169"),
        (RejectReason.REDUCE_ONLY, "", "place", SPOT, "51139"),
        (RejectReason.INVALID_PRICE, "", "place", SWAP, "51000"),
        (
            RejectReason.INVALID_SIZE,
            "quantity 0.001 is below the minimum 0.01",
            "place",
            SWAP,
            "51020",
        ),
        (
            RejectReason.INVALID_SIZE,
            "quantity 0.015 is not a multiple of the lot 0.01",
            "place",
            SWAP,
            "51121",
        ),
        (RejectReason.INVALID_SIZE, "quantity -1 must be positive", "place", SWAP, "51000"),
        (RejectReason.ORDER_NOT_FOUND, "", "cancel", SWAP, "51400"),
        (RejectReason.ORDER_CLOSED, "", "cancel", SWAP, "51400"),
        (RejectReason.ORDER_NOT_FOUND, "", "amend", SWAP, "51503"),
        (RejectReason.ORDER_CLOSED, "", "amend", SWAP, "51503"),
        (RejectReason.ORDER_NOT_FOUND, "", "query", SWAP, "51603"),
        (RejectReason.DUPLICATE_CLIENT_ORDER_ID, "", "place", SWAP, "51016"),
        (RejectReason.UNKNOWN_INSTRUMENT, "", "place", None, "51001"),
        (RejectReason.NO_LIQUIDITY, "", "place", SWAP, "51109"),
        (RejectReason.FOK_NOT_FILLABLE, "", "place", SWAP, "51000"),
        (RejectReason.INVALID_TRIGGER_PRICE, "", "place", SWAP, "51280"),
    ],
)
def test_every_engine_rejection_has_an_okx_code(reason, message, operation, info, code):
    assert reject_code(SimReject(reason, message), operation, info)[0] == code


def test_insufficient_funds_names_the_currency_like_okx():
    assert reject_code(SimReject(RejectReason.INSUFFICIENT_FUNDS), "place", SPOT) == (
        "51008",
        "Order failed. Insufficient USDT balance in account",
    )
    assert reject_code(SimReject(RejectReason.INSUFFICIENT_FUNDS), "place", SWAP) == (
        "51008",
        "Order failed. Insufficient USDT margin in account",
    )
