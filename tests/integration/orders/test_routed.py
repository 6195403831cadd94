"""Smart order routing against the simulator: live venue books (read from each venue's REST book
and written to the cache in the connectors' shape, with the market generator paused so that the
book routed on is the book matched against), children sent through the order path, fills read
back from the venues' answers.

Books are set by the test: the generator is paused, the simulator's market maker's quotes on
the pair are canceled, and a second simulator account rests the sell orders each test needs, so
every price and size routed on, and filled at, is known exactly.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
import requests
from django.core.cache import cache
from django.utils import timezone
from prometheus_client import REGISTRY

from exchanges.simulator.engine.records import MAKER_ACCOUNT
from exchanges.simulator.instruments import sim_symbol
from exchanges.venues import quantities
from exchanges.venues.base import OrderType, Side, Venue
from marketdata.feed import book_channel, book_data, latest_key
from marketdata.models import ConnectorStatus
from orders import routed, routing
from orders.models import Order, RoutedOrder
from orders.venue import client_for
from portfolio.models import Balance

pytestmark = pytest.mark.django_db
D = Decimal
SYMBOL = "BTC/USDT:USDT"
SHAPER = "routing-shaper"


class Market:
    """The venues' books as the router sees them, and the means to shape them."""

    def __init__(self, sim, accounts):
        self.sim = sim
        self.accounts = accounts
        self.venues = (Venue.OKX, Venue.BYBIT)
        for venue in Venue:
            url = f"{sim.urls[venue]['rest']}/_sim/generator"
            requests.post(url, json={"running": False}, timeout=5).raise_for_status()
            sim.call(sim.engine.add_account, venue, SHAPER, "shaper-secret", "shaper-pass")
            self.connector(venue, up=True)
        for venue in self.venues:
            sim.call(sim.engine.cancel_all, venue, MAKER_ACCOUNT, sim_symbol(self.info(venue)))

    def info(self, venue):
        return self.accounts[venue].exchange.instruments.get(symbol=SYMBOL).info()

    def book(self, venue):
        client = client_for(self.accounts[venue])
        return client.order_book(client.symbols.venue(SYMBOL), depth=20)

    def publish(self, *venues, age_seconds: float = 0) -> None:
        """Each venue's book now into the cache, as its connector would write it."""
        for venue in venues or self.venues:
            book = self.book(venue)
            stamp = time.time_ns() - int(age_seconds * 1e9)
            data = book_data(
                venue,
                SYMBOL,
                book.bids,
                book.asks,
                sequence=book.sequence,
                exchange_ts=stamp,
                receive_ts=stamp,
            )
            cache.set(latest_key(book_channel(venue, SYMBOL)), data)

    def rest_ask(self, venue, price: str, base: str) -> Decimal:
        """A resting sell of `base` BTC at `price` (in the venue's quantity unit)."""
        info = self.info(venue)
        price = D(price)
        quantity = D(base) / quantities.unit_value(info)
        self.sim.call(
            self.sim.engine.place_order,
            venue,
            SHAPER,
            sim_symbol(info),
            side=Side.SELL,
            order_type=OrderType.LIMIT,
            quantity=quantity,
            price=price,
        )
        return price

    def connector(self, venue, *, up: bool, heartbeat_age: float = 0) -> None:
        exchange = self.accounts[venue].exchange
        ConnectorStatus.objects.update_or_create(
            exchange=exchange,
            account=None,
            stream="public",
            defaults={
                "state": "subscribed" if up else "disconnected",
                "last_heartbeat_at": timezone.now() - timezone.timedelta(seconds=heartbeat_age),
            },
        )


@pytest.fixture
def market(sim, accounts):
    return Market(sim, accounts)


def route(market, quantity, *, bps="0.5", venues=None, **fields):
    chosen = [market.accounts[v] for v in (venues or market.venues)]
    return routed.route_order(
        symbol=SYMBOL,
        side=fields.pop("side", "buy"),
        quantity=D(quantity),
        accounts=chosen,
        max_slippage_bps=D(bps),
        actor="tina",
        **fields,
    )


def children(parent):
    """(venue, base quantity, status, average price) of each child, in the order sent."""
    rows = Order.objects.filter(parent=parent).select_related("instrument__exchange")
    return [
        (r.instrument.exchange.venue, routed.quantity_in_base(r), r.status, r.average_fill_price)
        for r in rows.order_by("id")
    ]


def excluded(parent):
    return {(e["venue"], e["reason"]) for e in parent.decision["plan"]["excluded"]}


def test_the_best_venue_changes_when_the_books_change(market):
    okx = market.rest_ask(Venue.OKX, "100000", "0.5")
    market.rest_ask(Venue.BYBIT, "100010", "0.5")
    market.publish()
    first = route(market, "0.2")
    assert children(first) == [("okx", D("0.2"), "filled", okx)]
    assert (first.status, first.filled_quantity, first.average_price) == ("filled", D("0.2"), okx)

    bybit = market.rest_ask(Venue.BYBIT, "99990", "0.5")
    market.publish()
    second = route(market, "0.2")
    assert children(second) == [("bybit", D("0.2"), "filled", bybit)]
    assert second.average_price == bybit
    plan = second.decision["plan"]
    assert plan["reference_price"] == "99990"
    assert [c["venue"] for c in plan["children"]] == ["bybit"]
    sent = Order.objects.get(parent=second)
    assert plan["children"][0]["client_order_id"] == sent.client_order_id
    seen = {i["venue"]: i for i in second.decision["inputs"]}
    assert seen["bybit"]["book"]["asks"] == [["99990.0", "0.500"], ["100010.0", "0.500"]]
    assert seen["okx"]["taker_fee"] == "0.0005"


def test_a_higher_taker_fee_sends_the_order_to_the_other_venue(market, settings):
    okx = market.rest_ask(Venue.OKX, "100000", "0.5")
    bybit = market.rest_ask(Venue.BYBIT, "100001", "0.5")
    market.publish()
    assert children(route(market, "0.2")) == [("okx", D("0.2"), "filled", okx)]

    settings.ARBITRAGE_TAKER_FEES = {"okx:derivatives": "0.001"}
    market.publish()
    assert children(route(market, "0.2")) == [("bybit", D("0.2"), "filled", bybit)]


def test_a_short_balance_caps_the_best_venue_and_the_rest_goes_to_the_next(market):
    okx = market.rest_ask(Venue.OKX, "100000", "1")
    bybit = market.rest_ask(Venue.BYBIT, "100001", "1")
    market.publish()
    # OKX margin for 0.3 BTC at the child's price (the bound, rounded to the tick) at leverage 1
    bound = routing.child_price(market.info(Venue.OKX), Side.BUY, okx * (1 + D("0.5") / 10_000))
    Balance.objects.create(
        account=market.accounts[Venue.OKX],
        currency="USDT",
        total=D("100000"),
        available=D("0.3") * bound,
    )
    parent = route(market, "0.5")
    assert children(parent) == [
        ("okx", D("0.3"), "filled", okx),
        ("bybit", D("0.2"), "filled", bybit),
    ]
    assert parent.filled_quantity == D("0.5")
    assert parent.average_price == ((D("0.3") * okx + D("0.2") * bybit) / D("0.5")).quantize(
        routing.PRICE_QUANTUM
    )
    funds = {i["venue"]: i.get("funds") for i in parent.decision["inputs"]}
    assert D(funds["okx"]["available"]) == D("0.3") * bound
    assert D(funds["okx"]["cap_base"]) == D("0.3")


def best_single_average(market, venue, quantity: Decimal) -> Decimal:
    """What `quantity` would cost on `venue` alone, walking its whole book (base units)."""
    info = market.info(venue)
    left, cost = quantity, D(0)
    for price, size in market.book(venue).asks:
        base = quantities.base_quantity(info, size, price)
        take = min(base, left)
        cost += take * price
        left -= take
        if left == 0:
            return cost / quantity
    raise AssertionError(f"{venue} book too thin for {quantity}")


def test_a_large_order_is_split_and_does_at_least_as_well_as_the_best_single_venue(market):
    okx = market.rest_ask(Venue.OKX, "100000", "0.3")
    market.rest_ask(Venue.OKX, "100100", "1")
    bybit = market.rest_ask(Venue.BYBIT, "100002", "0.3")
    market.rest_ask(Venue.BYBIT, "100100", "1")
    market.publish()
    alone = min(best_single_average(market, v, D("0.6")) for v in market.venues)
    assert alone == D("100050")
    splits = REGISTRY.get_sample_value("gateway_routing_decisions_total", {"outcome": "split"})
    parent = route(market, "0.6", bps="5")
    assert (
        REGISTRY.get_sample_value("gateway_routing_decisions_total", {"outcome": "split"})
        == (splits or 0) + 1
    )
    assert children(parent) == [
        ("okx", D("0.3"), "filled", okx),
        ("bybit", D("0.3"), "filled", bybit),
    ]
    assert parent.average_price == (okx + bybit) / 2
    assert parent.average_price <= alone


def test_a_venue_left_out_is_named_with_its_reason_and_taken_back(market):
    okx = market.rest_ask(Venue.OKX, "100000", "1")
    bybit = market.rest_ask(Venue.BYBIT, "100001", "1")
    market.publish()
    market.connector(Venue.OKX, up=True, heartbeat_age=11)  # its process stopped beating
    down = route(market, "0.1")
    assert children(down) == [("bybit", D("0.1"), "filled", bybit)]
    assert excluded(down) == {("okx", routing.CONNECTOR_DOWN)}

    market.connector(Venue.OKX, up=True)  # a new process writes its row
    back = route(market, "0.1")
    assert children(back) == [("okx", D("0.1"), "filled", okx)]
    assert excluded(back) == set()

    market.publish(Venue.OKX, age_seconds=11)
    assert excluded(route(market, "0.1")) == {("okx", routing.STALE_BOOK)}
    cache.delete(latest_key(book_channel(Venue.OKX, SYMBOL)))  # withdrawn as invalid
    assert excluded(route(market, "0.1")) == {("okx", routing.NO_BOOK)}


def test_nothing_routable_is_a_rejected_parent_that_says_why(market):
    market.publish()
    for venue in market.venues:
        market.connector(venue, up=False)
    parent = route(market, "0.1")
    assert parent.status == "rejected"
    assert Order.objects.filter(parent=parent).count() == 0
    assert excluded(parent) == {("okx", "connector_down"), ("bybit", "connector_down")}
    assert parent.decision["plan"]["unrouted"] == "0.1"
    assert RoutedOrder.objects.get(pk=parent.pk).filled_quantity == 0


def test_a_child_the_venue_rejects_is_rerouted_once_to_the_next_best_venue(market, sim):
    market.rest_ask(Venue.OKX, "100000", "1")
    bybit = market.rest_ask(Venue.BYBIT, "100001", "1")
    market.publish()
    sim.faults[Venue.OKX].update(rate_limit_burst=1)  # OKX refuses the next request
    before = REGISTRY.get_sample_value("gateway_routing_reroutes_total", {"venue": "okx"}) or 0
    parent = route(market, "0.2")
    assert REGISTRY.get_sample_value("gateway_routing_reroutes_total", {"venue": "okx"}) == (
        before + 1
    )
    assert children(parent) == [
        ("okx", D("0.2"), "rejected", None),
        ("bybit", D("0.2"), "filled", bybit),
    ]
    assert (parent.status, parent.filled_quantity, parent.average_price) == (
        "filled",
        D("0.2"),
        bybit,
    )
    (reroute,) = parent.decision["reroutes"]
    assert reroute["rejected"]["venue"] == "okx"
    assert reroute["rejected"]["reason"].startswith("rejected by the venue: ")
    assert [(c["venue"], c["base_quantity"]) for c in reroute["plan"]["children"]] == [
        ("bybit", "0.2")
    ]
    assert reroute["plan"]["excluded"][0]["reason"] == routing.REJECTED
    assert [s["refused"] for s in reroute["sent"]] == [""]
    rerouted = Order.objects.filter(parent=parent).order_by("id").last()
    assert reroute["sent"][0]["client_order_id"] == rerouted.client_order_id


def test_a_disabled_or_kill_switched_account_is_left_out(market):
    from risk import kill_switch

    market.rest_ask(Venue.OKX, "100000", "1")
    market.rest_ask(Venue.BYBIT, "100001", "1")
    market.publish()
    kill_switch.engage(account=market.accounts[Venue.OKX], reason="test", actor="rita")
    assert excluded(route(market, "0.1")) == {("okx", routing.KILL_SWITCH)}
    bybit = market.accounts[Venue.BYBIT]
    bybit.enabled = False
    bybit.save()
    parent = route(market, "0.1")
    assert excluded(parent) == {("okx", routing.KILL_SWITCH), ("bybit", routing.ACCOUNT_DISABLED)}
    assert parent.status == "rejected"


def test_a_risk_limit_caps_the_best_venue_and_the_rest_goes_to_the_next(market):
    from risk.models import RiskLimit

    okx = market.rest_ask(Venue.OKX, "100000", "1")
    bybit = market.rest_ask(Venue.BYBIT, "100001", "1")
    market.publish()
    account = market.accounts[Venue.OKX]
    RiskLimit.objects.create(
        name="okx perp orders",
        account=account,
        instrument=account.exchange.instruments.get(symbol=SYMBOL),
        max_order_quantity=D("20"),  # contracts of 0.01 BTC
    )
    parent = route(market, "0.5")
    assert children(parent) == [
        ("okx", D("0.2"), "filled", okx),
        ("bybit", D("0.3"), "filled", bybit),
    ]
    funds = {i["venue"]: i.get("funds") for i in parent.decision["inputs"]}
    assert (funds["okx"]["limit_cap"], funds["okx"]["cap_base"]) == ("0.2", "0.2")
    assert parent.decision["reroutes"] == []


def test_a_limit_order_takes_what_is_there_and_rests_the_rest_on_the_best_net_venue(market):
    market.rest_ask(Venue.OKX, "100000", "0.2")
    market.rest_ask(Venue.BYBIT, "99999", "0.1")
    market.publish()
    parent = route(market, "0.5", order_type="limit", price=D("100000"))
    # bybit's level nets 99999 x 1.00055, okx's 100000 x 1.0005: bybit first, then okx, and
    # okx has the best net top of book, so the 0.2 nobody offers rests there
    assert children(parent) == [
        ("okx", D("0.4"), "partially_filled", D("100000")),
        ("bybit", D("0.1"), "filled", D("99999")),
    ]
    assert [c["time_in_force"] for c in parent.decision["plan"]["children"]] == ["gtc", "gtc"]
    assert (parent.status, parent.filled_quantity) == ("open", D("0.3"))
    assert parent.average_price == ((D("0.2") * 100000 + D("0.1") * 99999) / D("0.3")).quantize(
        routing.PRICE_QUANTUM
    )
