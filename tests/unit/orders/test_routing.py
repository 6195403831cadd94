"""The pure routing decision (`orders/routing.py`): exact plans from given books, fees and caps."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import Side, Venue
from marketdata.aggregation import book_in_base
from orders import routing
from orders.routing import Candidate, Excluded

SPEC = {(i.venue, i.venue_symbol, i.kind.value): i for i in DEFAULT_INSTRUMENTS}
OKX = SPEC[(Venue.OKX, "BTC-USDT-SWAP", "perpetual")]
BYBIT = SPEC[(Venue.BYBIT, "BTCUSDT", "perpetual")]
DERIBIT = SPEC[(Venue.DERIBIT, "BTC-PERPETUAL", "perpetual")]


def levels(*pairs):
    return tuple((D(p), D(s)) for p, s in pairs)


def okx(asks, fee="0.0005", cap=None):
    return Candidate("okx-1", OKX, levels(*asks), D(fee), None if cap is None else D(cap))


def bybit(asks, fee="0.0005", cap=None):
    return Candidate("bybit-1", BYBIT, levels(*asks), D(fee), None if cap is None else D(cap))


def plan(candidates, quantity, side="buy", bps="100", **kwargs):
    return routing.plan_route(
        side=side, quantity=D(quantity), candidates=candidates, max_slippage_bps=D(bps), **kwargs
    )


def shares(p):
    return [(c.account, c.base_quantity, c.quantity, c.price, c.time_in_force) for c in p.children]


def test_the_best_price_takes_the_whole_order():
    p = plan([okx([("50000", "1")]), bybit([("49990", "1")], fee="0.00055")], "0.5")
    assert shares(p) == [("bybit-1", D("0.5"), D("0.5"), D("50489.9"), "ioc")]
    assert p.children[0].expected_price == D("49990")
    assert p.children[0].expected_net_price == D("50017.4945")
    assert (p.reference, p.bound) == (D("49990"), D("50489.9"))
    assert (p.routed, p.unrouted, p.excluded) == (D("0.5"), D("0"), ())


def test_a_higher_taker_fee_moves_the_order_to_the_other_venue():
    p = plan([okx([("50000", "1")]), bybit([("49990", "1")], fee="0.0008")], "0.5")
    # bybit nets 49990 x 1.0008 = 50029.992, okx 50000 x 1.0005 = 50025: okx, in contracts
    assert shares(p) == [("okx-1", D("0.5"), D("50"), D("50489.9"), "ioc")]
    assert p.expected_net_price == D("50025")


def test_a_short_balance_caps_the_best_venue_and_the_rest_goes_to_the_next():
    p = plan([okx([("50000", "1")]), bybit([("49990", "1")], fee="0.00055", cap="0.2")], "0.5")
    assert shares(p) == [
        ("bybit-1", D("0.2"), D("0.2"), D("50489.9"), "ioc"),
        ("okx-1", D("0.3"), D("30"), D("50489.9"), "ioc"),
    ]
    assert p.expected_net_price == D("50021.9978")


def test_a_large_order_is_split_and_beats_every_single_venue():
    books = [okx([("50000", "0.4"), ("50020", "1")]), bybit([("49990", "0.3"), ("50010", "1")])]
    p = plan(books, "1")
    assert shares(p) == [
        ("bybit-1", D("0.6"), D("0.6"), D("50489.9"), "ioc"),
        ("okx-1", D("0.4"), D("40"), D("50489.9"), "ioc"),
    ]
    assert [c.expected_price for c in p.children] == [D("50000"), D("50000")]
    assert (p.expected_price, p.expected_net_price) == (D("50000"), D("50025"))
    alone = routing.single_venue_estimates(Side.BUY, D("1"), books, p.bound)
    assert alone == {
        "okx-1": (D("1"), D("50037.006")),
        "bybit-1": (D("1"), D("50029.002")),
    }
    assert p.expected_net_price < min(net for _, net in alone.values())


def test_levels_beyond_the_slippage_bound_are_not_taken():
    p = plan([okx([("50000", "0.4")]), bybit([("49990", "0.3")])], "1", bps="1")
    # bound 49990 x 1.0001 = 49994.999, on bybit's 0.1 tick 49994.9
    assert shares(p) == [("bybit-1", D("0.3"), D("0.3"), D("49994.9"), "ioc")]
    assert (p.routed, p.unrouted) == (D("0.3"), D("0.7"))
    assert p.unrouted_reason.startswith("not enough liquidity")


def test_a_share_below_the_venue_minimum_leaves_the_venue_out_and_walks_again():
    p = plan([okx([("50000", "1")]), bybit([("49990", "0.0004"), ("60000", "1")])], "0.0005")
    assert shares(p) == [("okx-1", D("0.0005"), D("0.05"), D("50489.9"), "ioc")]
    assert [(e.account, e.reason) for e in p.excluded] == [("bybit-1", routing.BELOW_MINIMUM)]


def test_an_inverse_venue_gets_its_quantity_in_usd_rounded_down_to_the_lot():
    book = book_in_base(DERIBIT, [], levels(("50000", "50000")))
    deribit = Candidate("deribit-1", DERIBIT, book.asks, D("0.0005"))
    p = plan([deribit], "0.50001")
    assert shares(p) == [("deribit-1", D("0.5"), D("25000"), D("50500"), "ioc")]
    assert p.unrouted == D("0.00001")


def test_a_sell_takes_the_best_bid_net_of_fees():
    p = plan(
        [okx([("49990", "1")], fee="0.0002"), bybit([("50000", "1")], fee="0.00055")],
        "0.25",
        side="sell",
    )
    # okx nets 49990 x 0.9998 = 49980.002, bybit 50000 x 0.99945 = 49972.5
    assert shares(p) == [("okx-1", D("0.25"), D("25"), D("49500"), "ioc")]
    assert p.bound == D("49500")


def test_a_limit_order_takes_what_is_executable_and_rests_the_rest_on_the_best_venue():
    books = [okx([("50000", "0.4"), ("50020", "1")]), bybit([("49990", "0.3"), ("50010", "1")])]
    p = plan(books, "1", order_type=routing.LIMIT, limit_price=D("50000"))
    assert shares(p) == [
        ("bybit-1", D("0.6"), D("0.6"), D("50000"), "gtc"),
        ("okx-1", D("0.4"), D("40"), D("50000"), "gtc"),
    ]
    assert [c.expected_quantity for c in p.children] == [D("0.3"), D("0.4")]
    assert p.expected_price == D("49995.71428571")


def test_no_eligible_venue_routes_nothing_and_keeps_the_reasons():
    gone = Excluded("okx-1", Venue.OKX, routing.CONNECTOR_DOWN)
    p = plan([bybit([], fee="0.0005"), okx([("1", "1")], cap="0")], "1", excluded=[gone])
    assert p.children == ()
    assert (p.routed, p.unrouted) == (D("0"), D("1"))
    assert [(e.account, e.reason) for e in p.excluded] == [
        ("okx-1", routing.CONNECTOR_DOWN),
        ("bybit-1", routing.EMPTY_SIDE),
        ("okx-1", routing.NO_FUNDS),
    ]


def test_a_rejected_child_is_rerouted_to_what_the_other_venues_have_left():
    books = [okx([("50000", "0.4"), ("50020", "1")]), bybit([("49990", "0.3"), ("50010", "1")])]
    first = plan(books, "1")
    rejected = first.children[0]
    again = routing.reroute(first, rejected, books, max_slippage_bps=D("100"))
    assert shares(again) == [("okx-1", D("0.6"), D("60"), D("50489.9"), "ioc")]
    assert again.children[0].expected_price == D("50020")
    assert [(e.account, e.reason) for e in again.excluded] == [("bybit-1", routing.REJECTED)]


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({"account_enabled": False, "kill_switch": True}, routing.ACCOUNT_DISABLED),
        ({"can_trade": False}, routing.CANNOT_TRADE),
        ({"kill_switch": True, "connector_up": False}, routing.KILL_SWITCH),
        ({"connector_up": False}, routing.CONNECTOR_DOWN),
        ({"book_present": False}, routing.NO_BOOK),
        ({"book_age_seconds": 10.5}, routing.STALE_BOOK),
        ({"book_age_seconds": None}, routing.STALE_BOOK),
        ({"book_age_seconds": 10.0}, None),
        ({}, None),
    ],
)
def test_exclusion_reasons_in_order(facts, reason):
    given = {
        "account_enabled": True,
        "can_trade": True,
        "kill_switch": False,
        "connector_up": True,
        "book_present": True,
        "book_age_seconds": 0.5,
        "stale_after_seconds": 10.0,
    }
    assert routing.exclusion_reason(**{**given, **facts}) == reason


def test_funded_cap_counts_funds_as_the_risk_checks_do():
    spot = SPEC[(Venue.BYBIT, "BTCUSDT", "spot")]
    assert routing.funded_cap(BYBIT, Side.BUY, D("1000"), D("50000"), D("10")) == D("0.2")
    assert routing.funded_cap(spot, Side.BUY, D("1000"), D("50000")) == D("0.02")
    assert routing.funded_cap(spot, Side.SELL, D("0.3"), D("50000")) == D("0.3")
    assert routing.funded_cap(DERIBIT, Side.BUY, D("0.1"), D("50000"), D("5")) == D("0.5")
    assert routing.funded_cap(BYBIT, Side.BUY, None, D("50000")) is None
    assert routing.funded_cap(BYBIT, Side.BUY, D("-1"), D("50000")) == D("0")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"quantity": D("0")}, "quantity must be positive"),
        ({"order_type": "stop"}, "order type must be"),
        ({"order_type": "limit"}, "needs a positive limit price"),
        ({"max_slippage_bps": D("-1")}, "must not be negative"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(kwargs, message):
    given = {
        "side": "buy",
        "quantity": D("1"),
        "candidates": [okx([("50000", "1")])],
        "max_slippage_bps": D("10"),
    }
    with pytest.raises(ValueError, match=message):
        routing.plan_route(**{**given, **kwargs})


def test_limit_cap_turns_risk_limits_into_base_quantity():
    cap = routing.limit_cap
    price = D("50000")
    # OKX counts contracts of 0.01 BTC: 30 contracts are 0.3 BTC
    assert cap(OKX, max_order_quantity=D("30"), max_order_notional=None, price=price) == D("0.3")
    # 10000 USD at 50000 is 0.2 BTC, the tighter of the two
    assert cap(OKX, max_order_quantity=D("30"), max_order_notional=D("10000"), price=price) == D(
        "0.2"
    )
    # Deribit counts USD: 25000 USD at 50000 is 0.5 BTC; a notional of 7 USD is 0.00014 BTC
    assert cap(DERIBIT, max_order_quantity=D("25000"), max_order_notional=None, price=price) == D(
        "0.5"
    )
    assert cap(BYBIT, max_order_quantity=None, max_order_notional=D("7"), price=price) == D(
        "0.00014"
    )
    assert cap(BYBIT, max_order_quantity=None, max_order_notional=None, price=price) is None
