"""The whole order path live, on each venue: orders submitted through `orders.services`, the
connector service's private stream bringing their ends (fills, cancels), positions moved by the
fills, and at the end our orders, fills, positions and balances equal to the simulator's own
ledger, field by field; a reconciliation run then finds nothing the stream missed."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from django.core.cache import cache

from exchanges.simulator.bybit.wire import BybitWire
from exchanges.venues.base import Venue
from marketdata.connectors.persist import in_thread
from marketdata.feed import latest_key, ticker_channel, ticker_data
from orders import services
from orders.models import Fill, Order
from orders.venue import client_for
from portfolio.models import Balance, Position
from portfolio.reconciliation import reconcile_account
from tests.integration.portfolio.test_reconciliation import assert_balances_equal_the_ledger
from tests.integration.private.conftest import BOOKS, MIN_SIZE, make_accounts, make_exchanges
from tests.support.harness import eventually

pytestmark = pytest.mark.django_db(transaction=True)
D = Decimal
RESTING = {Venue.DERIBIT: D("90000"), Venue.OKX: D("90000"), Venue.BYBIT: D("90000")}


@pytest.fixture
def accounts(sim, transactional_db):
    made = make_accounts(sim, make_exchanges(sim))
    for account in made.values():
        account.permission = "trade"
        account.save()
    return made


def submit(account, venue, **fields):
    order = {
        "account": account,
        "symbol": BOOKS[venue],
        "side": "buy",
        "order_type": "market",
        "quantity": MIN_SIZE[venue],
        "actor": "alice",
    }
    order.update(fields)
    return services.submit_order(**order).order


def price_known(account, venue) -> None:
    """The venue's ticker in the cache, where the connectors keep it for the risk checks (the
    test's service publishes to a captured layer and cache of its own)."""
    client = client_for(account)
    ticker = client.ticker(client.symbols.venue(BOOKS[venue]))
    cache.set(latest_key(ticker_channel(venue, BOOKS[venue])), ticker_data(ticker))


def pause_market(sim, venue, running: bool) -> None:
    url = f"{sim.urls[venue]['rest']}/_sim/generator"
    requests.post(url, json={"running": running}, timeout=5).raise_for_status()


def ledger(sim, venue, account):
    engine = sim.engine
    key = account.credentials().api_key
    return (
        sim.call(engine.orders, venue, key),
        sim.call(engine.fills, venue, key),
        sim.call(engine.positions, venue, key),
        sim.call(engine.balances, venue, key),
    )


def ours(account):
    orders = {o.venue_order_id: o for o in Order.objects.filter(account=account)}
    fills = {f.trade_id: f for f in Fill.objects.filter(account=account).select_related("order")}
    positions = {  # by venue symbol, as the simulator's engine keys them
        p.instrument.venue_symbol: p
        for p in Position.objects.filter(account=account).select_related("instrument")
        if p.quantity != 0
    }
    balances = {b.currency: b for b in Balance.objects.filter(account=account)}
    return orders, fills, positions, balances


def venue_trade_id(venue, sim_fill) -> str:
    """The id the venue gives the engine's fill: Bybit's execId is one per side of a trade."""
    return BybitWire.exec_id(sim_fill) if venue is Venue.BYBIT else sim_fill.trade_id


def matches(sim, venue, account) -> bool:
    sim_orders, sim_fills, sim_positions, _ = ledger(sim, venue, account)
    orders, fills, positions, _ = ours(account)
    if {o.order_id for o in sim_orders} != set(orders):
        return False
    for sim_order in sim_orders:
        order = orders[sim_order.order_id]
        if (order.status, order.filled_quantity) != (sim_order.status, sim_order.filled_quantity):
            return False
    if {venue_trade_id(venue, f) for f in sim_fills} != set(fills):
        return False
    return {p.symbol: p.quantity for p in sim_positions} == {
        symbol: p.quantity for symbol, p in positions.items()
    }


@pytest.mark.parametrize("venue", [Venue.DERIBIT, Venue.OKX, Venue.BYBIT])
async def test_orders_fills_positions_and_balances_equal_the_venues_ledger(
    accounts, sim, start_service, venue
):
    account = accounts[venue]
    service = await start_service(dead_man_seconds=0)
    await eventually(
        lambda: service.accounts and all(c.catch_ups >= 1 for c in service.accounts.values()),
        timeout=20,
        interval=0.05,
    )
    resting = await in_thread(
        submit, account, venue, order_type="limit", price=RESTING[venue], quantity=MIN_SIZE[venue]
    )
    assert resting.status == "new"
    await in_thread(services.cancel_order, resting, actor="alice")

    async def canceled():
        row = await in_thread(Order.objects.get, pk=resting.pk)
        return row.status == "canceled"

    await eventually(
        canceled, timeout=15, interval=0.05
    )  # the push ends it where the answer did not
    await in_thread(price_known, account, venue)
    bought = await in_thread(submit, account, venue, quantity=2 * MIN_SIZE[venue])
    sold = await in_thread(submit, account, venue, side="sell")

    pause_market(sim, venue, False)
    try:
        await eventually(lambda: in_thread(matches, sim, venue, account), timeout=20, interval=0.1)
        sim_orders, sim_fills, sim_positions, _ = ledger(sim, venue, account)
        orders, fills, positions, _ = await in_thread(ours, account)
        assert {orders[o.order_id].pk for o in sim_orders} == {
            resting.pk,
            bought.pk,
            sold.pk,
        }
        for sim_order in sim_orders:
            order = orders[sim_order.order_id]
            assert (order.side, order.order_type) == (sim_order.side, sim_order.order_type)
            assert (order.quantity, order.filled_quantity, order.status) == (
                sim_order.quantity,
                sim_order.filled_quantity,
                sim_order.status,
            )
            assert order.average_fill_price == sim_order.average_price
            assert order.is_external is False
        for sim_fill in sim_fills:
            fill = fills[venue_trade_id(venue, sim_fill)]
            assert fill.order.venue_order_id == sim_fill.order_id
            assert (fill.side, fill.price, fill.quantity) == (
                sim_fill.side,
                sim_fill.price,
                sim_fill.quantity,
            )
            assert (fill.fee, fill.fee_currency, fill.liquidity) == (
                sim_fill.fee,
                sim_fill.fee_currency,
                sim_fill.liquidity,
            )
        (sim_position,) = sim_positions
        position = positions[sim_position.symbol]
        assert position.quantity == sim_position.quantity == MIN_SIZE[venue]
        assert position.entry_price == sim_position.entry_price
        # the venue states each trade's PnL to 1e-10 of the coin; we keep it exact (an inverse
        # contract's PnL, 1/entry - 1/exit, does not end), so ours rounds to the venue's figure
        assert position.realized_pnl.quantize(D("1e-10")) == sim_position.realized_pnl

        # Reconciliation against the paused venue finds nothing the stream missed; balances it
        # brings to the paused moment (OKX's and Deribit's equity move with the mark, and the
        # stream's last balance push was taken at an earlier one).
        reports = await in_thread(reconcile_account, account)
        statuses = {report.kind: (report.status, report.mismatches) for report in reports}
        assert {kind: statuses[kind] for kind in ("orders", "fills", "positions")} == {
            "orders": ("ok", 0),
            "fills": ("ok", 0),
            "positions": ("ok", 0),
        }
        await in_thread(assert_balances_equal_the_ledger, venue, account, sim, sim_position)
    finally:
        pause_market(sim, venue, True)
