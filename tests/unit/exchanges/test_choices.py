"""Django choices derive from the venue enums: same members, same values, comparable."""

import pytest

from exchanges import choices as exchange_choices
from exchanges.venues import base
from orders import choices as order_choices

DERIVED = [
    (exchange_choices.Venue, base.Venue),
    (exchange_choices.Environment, base.Environment),
    (exchange_choices.InstrumentKind, base.InstrumentKind),
    (exchange_choices.OptionType, base.OptionType),
    (exchange_choices.StreamKind, base.StreamKind),
    (exchange_choices.StreamState, base.StreamState),
    (order_choices.Side, base.Side),
    (order_choices.OrderType, base.OrderType),
    (order_choices.TimeInForce, base.TimeInForce),
    (order_choices.OrderStatus, base.OrderStatus),
    (order_choices.Liquidity, base.Liquidity),
]


@pytest.mark.parametrize(("choices", "enum_cls"), DERIVED, ids=lambda c: c.__name__)
def test_members_match_the_enum(choices, enum_cls):
    assert [(m.name, m.value) for m in choices] == [(m.name, m.value) for m in enum_cls]
    for member in enum_cls:
        assert choices[member.name] == member
        assert hash(choices[member.name]) == hash(member)
        assert choices(member) is choices[member.name]


def test_labels():
    assert order_choices.OrderStatus.choices == [
        ("pending_new", "Pending new"),
        ("untriggered", "Untriggered"),
        ("new", "New"),
        ("partially_filled", "Partially filled"),
        ("filled", "Filled"),
        ("pending_cancel", "Pending cancel"),
        ("canceled", "Canceled"),
        ("rejected", "Rejected"),
        ("expired", "Expired"),
    ]
    assert exchange_choices.Venue.choices == [
        ("deribit", "Deribit"),
        ("okx", "OKX"),
        ("bybit", "Bybit"),
    ]
    assert order_choices.TimeInForce.GTC.label == "Good till canceled"
    assert order_choices.OrderType.TAKE_PROFIT_LIMIT.label == "Take profit limit"


def test_a_stored_value_reads_back_as_the_enum():
    assert base.OrderStatus(order_choices.OrderStatus.PARTIALLY_FILLED) is (
        base.OrderStatus.PARTIALLY_FILLED
    )
    assert {base.Side.BUY: 1}[order_choices.Side.BUY] == 1
