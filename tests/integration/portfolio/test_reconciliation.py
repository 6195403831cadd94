"""Reconciliation against the simulator over real sockets: another client trades on the
account's keys while the gateway is not listening, then `reconcile_account` makes the
gateway's orders, fills, positions and balances equal to the venue's (the REST answers and the
simulator's own ledger), once, however often it runs."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
import requests
from django.utils import timezone
from prometheus_client import REGISTRY

from exchanges.clients import rest_client
from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues.base import Credentials, OrderRequest, OrderType, Side, Venue
from orders.models import Fill, Order, OrderEvent
from portfolio.models import AppliedFill, Balance, Position, ReconciliationCursor
from portfolio.reconciliation import reconcile_account
from portfolio.reconciliation.common import client_symbol
from tests.integration.marketdata.conftest import make_exchanges

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
# the instrument traded and the size of the orders, in its quantity unit
TRADED = {
    Venue.OKX: ("BTC/USDT:USDT", D(3)),  # contracts of 0.01 BTC
    Venue.BYBIT: ("BTC/USDT:USDT", D("0.03")),  # BTC
    Venue.DERIBIT: ("BTC/USD:BTC", D(300)),  # USD
}


def open_account(sim, venue: Venue, credentials: Credentials | None = None) -> ExchangeAccount:
    """An account of `venue` on the test's simulator, its market paused so that marks (and
    with them the wallets' figures) stay where they are while the test compares them."""
    exchange = make_exchanges(sim)[venue]
    paused = requests.post(
        f"{sim.urls[venue]['rest']}/_sim/generator", json={"running": False}, timeout=5
    )
    assert paused.status_code == 200
    credentials = credentials or sim.credentials[venue]
    return ExchangeAccount.objects.create(
        exchange=exchange,
        label="main",
        api_key=credentials.api_key,
        secret=credentials.secret,
        passphrase=credentials.passphrase,
        permission="trade",
    )


class OtherClient:
    """Someone else trading on the same keys, straight through the adapter."""

    def __init__(self, account: ExchangeAccount, symbol: str):
        self.rest = rest_client(exchange=account.exchange, account=account)
        self.rest.sync_clock()
        self.instrument = Instrument.objects.get(exchange=account.exchange, symbol=symbol)
        self.name = client_symbol(self.rest, self.instrument)
        self.count = 0

    def place(self, side: Side, quantity: Decimal, *, price: Decimal | None = None, **kw):
        self.count += 1
        return self.rest.place_order(
            OrderRequest(
                symbol=self.instrument.symbol,
                venue_symbol=self.name,
                client_order_id=kw.pop("client_order_id", f"other{self.count}x"),
                side=side,
                order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
                quantity=quantity,
                price=price,
            )
        )

    def far_below(self) -> Decimal:
        bid = self.rest.ticker(self.name).best_bid
        tick = self.instrument.tick_size  # a multiple of it (0.0005 is not a power of ten)
        return (bid * D("0.8") / tick).to_integral_value(ROUND_DOWN) * tick


# the places the simulator keeps a coin amount to, as each venue shows them
COIN_PLACES = {Venue.DERIBIT: D("1e-10"), Venue.OKX: D("1e-8"), Venue.BYBIT: D("1e-10")}


def as_venue_keeps(venue: Venue, instrument: Instrument, amount: Decimal) -> Decimal:
    """`amount` of PnL as the venue keeps it: stablecoin figures exact, coin figures rounded
    to the venue's places (the gateway's inverse PnL is exact to 1e-18)."""
    if instrument.settle in ("USDT", "USDC"):
        return amount
    return amount.quantize(COIN_PLACES[venue])


def all_fills(rest) -> list:
    """Every fill the venue lists, every page (Bybit pages one category at a time)."""
    fills, cursor = [], None
    while True:
        page = rest.fills(cursor=cursor)
        fills += page.fills
        if page.cursor is None or page.cursor == cursor:
            return fills
        cursor = page.cursor


def counted(kind: str) -> float:
    return (
        REGISTRY.get_sample_value("gateway_reconciliation_differences_total", {"kind": kind}) or 0.0
    )


def by_kind(reports):
    return {report.kind: report for report in reports}


def assert_positions_equal_the_venue(account, rest):
    venue = {p.symbol: p for p in rest.positions() if p.quantity != 0}
    ours = {
        p.instrument.symbol: p for p in Position.objects.filter(account=account).exclude(quantity=0)
    }
    assert set(ours) == set(venue)
    for symbol, position in ours.items():
        assert position.quantity == venue[symbol].quantity
        assert position.entry_price == venue[symbol].entry_price
        if venue[symbol].liquidation_price is not None:
            assert position.liquidation_price == venue[symbol].liquidation_price


def assert_balances_equal_the_venue(account, rest):
    venue = {b.currency: (b.total, b.available, b.locked) for b in rest.balances()}
    ours = {
        b.currency: (b.total, b.available, b.locked)
        for b in Balance.objects.filter(account=account)
    }
    assert ours == venue


def assert_balances_equal_the_ledger(venue, account, sim, sim_position):
    """Our wallets are the simulator's own, as each venue shows them: OKX's `eq` and
    Deribit's `equity` count the open position's unrealized PnL (Deribit's available funds
    too); Bybit's wallet balance does not."""
    expected = {
        b.currency: (b.total, b.available, b.locked)
        for b in sim.call(sim.engine.balances, venue, account.api_key)
    }
    upl, settle = sim_position.unrealized_pnl, sim_position.settle_currency
    total, available, locked = expected[settle]
    if venue is Venue.OKX:
        expected[settle] = (total + upl, available, locked)
    elif venue is Venue.DERIBIT:
        expected[settle] = (total + upl, available + upl, locked)
    ours = {
        b.currency: (b.total, b.available, b.locked)
        for b in Balance.objects.filter(account=account)
    }
    assert ours == expected


@pytest.mark.parametrize(
    ("venue", "symbol", "size"),
    [(venue, *TRADED[venue]) for venue in (Venue.OKX, Venue.BYBIT, Venue.DERIBIT)]
    + [
        (Venue.DERIBIT, "BTC/USD:BTC-261225-100000-C", D("0.3")),  # an option, in BTC
        (Venue.OKX, "BTC/USD:BTC", D(3)),  # inverse, contracts of 100 USD
        (Venue.BYBIT, "BTC/USD:BTC", D(300)),  # inverse, USD
    ],
    ids=["okx", "bybit", "deribit", "deribit-option", "okx-inverse", "bybit-inverse"],
)
def test_trades_of_another_client_are_recovered_once(sim, venue, symbol, size):
    account = open_account(sim, venue)
    other = OtherClient(account, symbol)
    resting = other.place(Side.BUY, size, price=other.far_below())
    other.place(Side.BUY, size * 2)
    other.place(Side.SELL, size)

    differences = {kind: counted(kind) for kind in ("orders", "fills")}
    first = by_kind(reconcile_account(account))
    assert {kind: r.status for kind, r in first.items()} == {
        "orders": "mismatch",
        "fills": "mismatch",
        "positions": "ok",  # the recovered fills made the venue's position already
        "balances": "mismatch",
    }
    for kind in ("orders", "fills"):  # counted in gateway_reconciliation_differences_total
        assert counted(kind) - differences[kind] == first[kind].mismatches
    adopted = Order.objects.get(account=account, venue_order_id=resting.venue_order_id)
    assert (adopted.is_external, adopted.status, adopted.quantity) == (True, "new", size)
    assert first["orders"].details["differences"][0]["action"] == "adopted as external"
    venue_fills = all_fills(other.rest)
    assert first["fills"].mismatches == len(venue_fills) >= 2
    assert len(sim.call(sim.engine.fills, venue, account.api_key)) == len(venue_fills)
    fills = Fill.objects.filter(account=account)
    assert sorted(f.trade_id for f in fills) == sorted(f.trade_id for f in venue_fills)
    assert AppliedFill.objects.filter(fill__account=account).count() == len(venue_fills)
    assert_positions_equal_the_venue(account, other.rest)
    assert_balances_equal_the_venue(account, other.rest)
    # the gateway's own realized PnL from the fills is the simulator's, fees included
    (sim_position,) = sim.call(sim.engine.positions, venue, account.api_key)
    position = Position.objects.get(account=account, instrument=other.instrument)
    assert position.quantity == sim_position.quantity == size
    assert position.entry_price == sim_position.entry_price
    if other.instrument.linear or venue is Venue.DERIBIT:
        # OKX and Bybit value a coin-margined position at the mark of the moment they answer,
        # which the engine's ledger holds only as of its last update: those wallets are
        # compared with the venue's answer (above) only
        assert_balances_equal_the_ledger(venue, account, sim, sim_position)
    assert (
        as_venue_keeps(venue, other.instrument, position.realized_pnl) == sim_position.realized_pnl
    )

    second = by_kind(reconcile_account(account))
    assert {kind: r.status for kind, r in second.items()} == dict.fromkeys(second, "ok")
    assert Fill.objects.filter(account=account).count() == len(venue_fills)
    assert AppliedFill.objects.filter(fill__account=account).count() == len(venue_fills)
    assert Order.objects.filter(account=account, is_external=True).count() == 1
    position.refresh_from_db()
    assert (
        as_venue_keeps(venue, other.instrument, position.realized_pnl) == sim_position.realized_pnl
    )
    assert ReconciliationCursor.objects.filter(account=account, kind="fills").count() == 1
    other.rest.close()


@pytest.mark.parametrize("venue", [Venue.OKX, Venue.BYBIT, Venue.DERIBIT])
def test_our_open_orders_take_the_venues_answer(sim, venue):
    symbol, size = TRADED[venue]
    account = open_account(sim, venue)
    other = OtherClient(account, symbol)
    price = other.far_below()

    def ours(**values):
        return Order.objects.create(
            account=account,
            instrument=other.instrument,
            side="buy",
            order_type="limit",
            price=price,
            quantity=size,
            **values,
        )

    canceled = ours(status="new")
    other.place(Side.BUY, size, price=price, client_order_id=canceled.client_order_id)
    other.rest.cancel_order(other.name, client_order_id=canceled.client_order_id)
    lost = ours(created_at=timezone.now() - timedelta(minutes=5))
    recent = ours()
    closed_here = ours(status="canceled")
    live = other.place(Side.BUY, size, price=price, client_order_id=closed_here.client_order_id)

    report = by_kind(reconcile_account(account))["orders"]
    canceled.refresh_from_db()
    lost.refresh_from_db()
    recent.refresh_from_db()
    assert (canceled.status, bool(canceled.venue_order_id)) == ("canceled", True)
    assert (lost.status, lost.reject_reason) == ("rejected", "not found on venue")
    assert OrderEvent.objects.filter(order=lost, kind="reconciliation").count() == 1
    assert recent.status == "pending_new"
    closed_here.refresh_from_db()
    assert (closed_here.status, closed_here.venue_order_id) == ("canceled", "")
    assert (report.status, report.checked, report.mismatches) == ("mismatch", 4, 3)
    assert sorted(d["action"] for d in report.details["differences"]) == [
        "left for an operator: an order never reopens",
        "rejected: not found on venue",
        "took the venue's answer: canceled",
    ]
    assert [d["venue"] for d in report.details["differences"] if d["order"] == closed_here.pk] == [
        str(live.status)
    ]
    assert report.details["notes"] == [
        f"order {recent.pk}: pending_new within the grace period, left"
    ]
    other.rest.close()


def test_flat_on_the_venue_sets_ours_to_zero(sim):
    account = open_account(sim, Venue.OKX)
    instrument = Instrument.objects.get(exchange=account.exchange, symbol="ETH/USDT:USDT")
    Position.objects.create(
        account=account, instrument=instrument, quantity=D(5), entry_price=D(3000)
    )
    spot = Instrument.objects.get(exchange=account.exchange, symbol="BTC/USDT")
    Position.objects.create(account=account, instrument=spot, quantity=D("0.5"), entry_price=D(1))
    Balance.objects.create(account=account, currency="SOL", total=D(3), available=D(3))
    reports = by_kind(reconcile_account(account))
    assert Position.objects.get(account=account, instrument=spot).quantity == D("0.5")
    position = Position.objects.get(account=account, instrument=instrument)
    assert (position.quantity, position.entry_price) == (0, None)
    assert reports["positions"].details["differences"] == [
        {
            "what": "held here, flat on the venue",
            "symbol": "ETH/USDT:USDT",
            "ours": {"quantity": "5.000000000000000000", "entry_price": "3000.000000000000000000"},
            "action": "set to zero",
        }
    ]
    assert Balance.objects.get(account=account, currency="SOL").total == 0


def test_a_venue_error_is_an_error_report_not_a_crash(sim):
    wrong = Credentials(api_key="NotAKeyTheVenueKnows", secret="wrong-secret", passphrase="x")
    account = open_account(sim, Venue.BYBIT, wrong)
    reports = reconcile_account(account)
    assert [r.kind for r in reports] == ["orders", "fills", "positions", "balances"]
    for report in reports:
        assert report.status == "error"
        assert report.finished_at is not None
        error = report.details["error"]
        assert (error["type"], error["venue"]) == ("AuthenticationError", "bybit")
        assert error["message"]


class BrokenBalances:
    """A client whose balances answer cannot be read: the gateway's own fault, not the
    venue's, which must not stop the other kinds or leave a report running."""

    def __init__(self, rest):
        self.rest = rest
        self.symbols = rest.symbols

    def __getattr__(self, name):
        return getattr(self.rest, name)

    def balances(self):
        raise KeyError("availBal")


def test_a_fault_in_one_kind_is_its_error_report_the_others_run(sim, caplog):
    account = open_account(sim, Venue.OKX)
    rest = rest_client(exchange=account.exchange, account=account)
    reports = by_kind(reconcile_account(account, client=BrokenBalances(rest)))
    rest.close()
    assert [r.status for r in reports.values()] == ["ok", "ok", "ok", "error"]
    assert reports["balances"].details["error"] == {
        "message": "the gateway failed: 'availBal'",
        "venue": "",
        "venue_code": "",
        "type": "KeyError",
    }
    assert "reconciliation of okx-sim/main, balances failed" in caplog.text
