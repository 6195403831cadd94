"""The order state machine, checked pair by pair against a table written out by hand."""

from decimal import Decimal

import pytest

from exchanges.venues.base import OrderStatus
from orders.state import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    InvalidTransition,
    can_transition,
    status_after_cancel_rejected,
    transition,
)

S = OrderStatus
ORDER = [
    S.PENDING_NEW,
    S.UNTRIGGERED,
    S.NEW,
    S.PARTIALLY_FILLED,
    S.FILLED,
    S.PENDING_CANCEL,
    S.CANCELED,
    S.REJECTED,
    S.EXPIRED,
]
# Rows: from; columns: to, in ORDER. 1 = allowed.
# fmt: off
EXPECTED = {
    #                    PN UT NEW PF  F  PC  C  R  E
    S.PENDING_NEW:      (1, 1, 1,  1,  1, 1,  1, 1, 1),
    S.UNTRIGGERED:      (0, 1, 1,  1,  1, 1,  1, 1, 1),
    S.NEW:              (0, 0, 1,  1,  1, 1,  1, 0, 1),
    S.PARTIALLY_FILLED: (0, 0, 0,  1,  1, 1,  1, 0, 1),
    S.FILLED:           (0, 0, 0,  0,  0, 0,  0, 0, 0),
    S.PENDING_CANCEL:   (0, 1, 1,  1,  1, 1,  1, 1, 1),
    S.CANCELED:         (0, 0, 0,  0,  0, 0,  0, 0, 0),
    S.REJECTED:         (0, 0, 0,  0,  0, 0,  0, 0, 0),
    S.EXPIRED:          (0, 0, 0,  0,  0, 0,  0, 0, 0),
}
# fmt: on
PAIRS = [(a, b, bool(EXPECTED[a][j])) for a in ORDER for j, b in enumerate(ORDER)]


def test_table_covers_every_status():
    assert set(ORDER) == set(OrderStatus)
    assert set(TRANSITIONS) == set(OrderStatus)
    assert len(PAIRS) == 81


@pytest.mark.parametrize(("from_status", "to_status", "allowed"), PAIRS)
def test_every_pair(from_status, to_status, allowed):
    assert can_transition(from_status, to_status) is allowed
    if allowed:
        assert transition(from_status, to_status) is to_status
    else:
        with pytest.raises(InvalidTransition) as info:
            transition(from_status, to_status)
        assert info.value.from_status is from_status
        assert info.value.to_status is to_status


@pytest.mark.parametrize(("from_status", "to_status", "allowed"), PAIRS)
def test_plain_strings_are_accepted(from_status, to_status, allowed):
    assert can_transition(str(from_status), str(to_status)) is allowed


def test_terminal_and_open_sets():
    assert TERMINAL_STATUSES == {S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED}
    assert OPEN_STATUSES == {
        S.PENDING_NEW,
        S.UNTRIGGERED,
        S.NEW,
        S.PARTIALLY_FILLED,
        S.PENDING_CANCEL,
    }
    assert {s for s in OrderStatus if s.is_terminal} == TERMINAL_STATUSES


def test_message_names_both_statuses_and_the_allowed_ones():
    with pytest.raises(InvalidTransition) as info:
        transition(S.NEW, S.PENDING_NEW)
    assert str(info.value) == (
        "order status cannot go from new to pending_new: from new an order may only become "
        "canceled, expired, filled, new, partially_filled, pending_cancel"
    )


def test_message_for_a_terminal_status():
    with pytest.raises(InvalidTransition) as info:
        transition("filled", "canceled")
    assert str(info.value) == "order status cannot go from filled to canceled: filled is terminal"


def test_unknown_status_is_a_value_error():
    with pytest.raises(ValueError, match="'open' is not a valid OrderStatus"):
        can_transition("new", "open")


@pytest.mark.parametrize(
    ("filled", "expected"),
    [(Decimal(0), S.NEW), (Decimal("0.001"), S.PARTIALLY_FILLED), (Decimal(5), S.PARTIALLY_FILLED)],
)
def test_cancel_rejected_returns_to_the_open_status(filled, expected):
    status = status_after_cancel_rejected(filled)
    assert status is expected
    assert can_transition(S.PENDING_CANCEL, status)


def test_a_refused_cancel_returns_an_unfired_conditional_order_to_untriggered():
    assert status_after_cancel_rejected(Decimal(0), untriggered=True) is S.UNTRIGGERED
    assert status_after_cancel_rejected(Decimal(1), untriggered=True) is S.PARTIALLY_FILLED
