"""`arbitrage_record`: an opportunity is opened when first found, updated while found, closed
when no longer found; replaying a call changes nothing; one open row per pair and direction."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from exchanges.venues.base import Venue
from marketdata.aggregation import Opportunity
from marketdata.models import ArbitrageOpportunity
from marketdata.services import ArbitrageChanges, arbitrage_record
from tests.factories import T0, ArbitrageOpportunityFactory, ExchangeFactory

pytestmark = pytest.mark.django_db

D = Decimal
PAIR = "BTC/USDT:USDT"
T1 = T0 + timedelta(seconds=1)
T2 = T0 + timedelta(seconds=2)

OKX_TO_BYBIT = Opportunity(
    symbol=PAIR,
    buy_venue=Venue.OKX,
    sell_venue=Venue.BYBIT,
    size=D("0.6"),
    buy_price=D(65005),
    sell_price=D("65183.33333333"),
    net_edge_quote=D("65.988"),
    net_edge_bps=D("16.9187"),
)
BYBIT_TO_OKX = replace(OKX_TO_BYBIT, buy_venue=Venue.BYBIT, sell_venue=Venue.OKX)


@pytest.fixture
def exchanges():
    return {
        Venue.OKX: ExchangeFactory(venue="okx"),
        Venue.BYBIT: ExchangeFactory(venue="bybit"),
    }


def figures(row: ArbitrageOpportunity) -> tuple:
    return (
        row.symbol,
        row.buy_exchange.venue,
        row.sell_exchange.venue,
        row.buy_price,
        row.sell_price,
        row.size,
        row.net_edge_bps,
        row.net_edge_quote,
        row.best_net_edge_bps,
        row.best_net_edge_quote,
        row.opened_at,
        row.last_seen_at,
        row.closed_at,
    )


def test_a_new_opportunity_is_opened(exchanges):
    changes = arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT], exchanges=exchanges, now=T0)
    row = ArbitrageOpportunity.objects.get()
    assert changes == ArbitrageChanges(opened=(row,))
    assert figures(row) == (
        PAIR,
        "okx",
        "bybit",
        D(65005),
        D("65183.33333333"),
        D("0.6"),
        D("16.9187"),
        D("65.988"),
        D("16.9187"),
        D("65.988"),
        T0,
        T0,
        None,
    )
    assert row.is_open


def test_an_open_opportunity_gets_the_latest_figures_and_keeps_the_best(exchanges):
    arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT], exchanges=exchanges, now=T0)
    wider = replace(OKX_TO_BYBIT, size=D(1), net_edge_quote=D(90), net_edge_bps=D("20.5"))
    arbitrage_record(pair=PAIR, found=[wider], exchanges=exchanges, now=T1)
    thinner = replace(OKX_TO_BYBIT, size=D("0.1"), net_edge_quote=D(7), net_edge_bps=D("6.25"))
    changes = arbitrage_record(pair=PAIR, found=[thinner], exchanges=exchanges, now=T2)

    row = ArbitrageOpportunity.objects.get()
    assert changes == ArbitrageChanges(updated=(row,))
    assert (row.size, row.net_edge_quote, row.net_edge_bps) == (D("0.1"), D(7), D("6.25"))
    assert (row.best_net_edge_quote, row.best_net_edge_bps) == (D(90), D("20.5"))
    assert (row.opened_at, row.last_seen_at, row.closed_at) == (T0, T2, None)


def test_an_opportunity_no_longer_found_is_closed_and_a_new_one_opens_later(exchanges):
    arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT, BYBIT_TO_OKX], exchanges=exchanges, now=T0)
    changes = arbitrage_record(pair=PAIR, found=[BYBIT_TO_OKX], exchanges=exchanges, now=T1)
    closed = ArbitrageOpportunity.objects.get(buy_exchange=exchanges[Venue.OKX])
    assert changes == ArbitrageChanges(closed=(closed,))
    assert (closed.closed_at, closed.last_seen_at) == (T1, T0)

    arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT], exchanges=exchanges, now=T2)
    rows = ArbitrageOpportunity.objects.filter(buy_exchange=exchanges[Venue.OKX])
    assert [(row.opened_at, row.closed_at) for row in rows] == [(T2, None), (T0, T1)]
    assert ArbitrageOpportunity.objects.get(buy_exchange=exchanges[Venue.BYBIT]).closed_at == T2


def test_other_pairs_are_left_alone(exchanges):
    other = ArbitrageOpportunityFactory(
        symbol="BTC/USDT",
        buy_exchange=exchanges[Venue.OKX],
        sell_exchange=exchanges[Venue.BYBIT],
    )
    assert arbitrage_record(pair=PAIR, found=[], exchanges=exchanges, now=T1) == ArbitrageChanges()
    other.refresh_from_db()
    assert other.closed_at is None


def test_replaying_a_call_changes_nothing(exchanges):
    arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT], exchanges=exchanges, now=T0)
    # The same figures a second later: seen again, not an update to stream.
    later = arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT], exchanges=exchanges, now=T1)
    assert later == ArbitrageChanges()
    seen = [figures(row) for row in ArbitrageOpportunity.objects.all()]
    assert seen[0][-2:] == (T1, None)

    again = arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT], exchanges=exchanges, now=T1)
    assert again == ArbitrageChanges()
    assert [figures(row) for row in ArbitrageOpportunity.objects.all()] == seen
    arbitrage_record(pair=PAIR, found=[], exchanges=exchanges, now=T2)
    closed = [figures(row) for row in ArbitrageOpportunity.objects.all()]
    assert arbitrage_record(pair=PAIR, found=[], exchanges=exchanges, now=T2) == ArbitrageChanges()
    assert [figures(row) for row in ArbitrageOpportunity.objects.all()] == closed
    assert ArbitrageOpportunity.objects.count() == 1


def test_wrong_input_is_refused_and_writes_nothing(exchanges):
    with pytest.raises(ValueError, match="BTC/USDT given for BTC/USDT:USDT"):
        arbitrage_record(
            pair=PAIR, found=[replace(OKX_TO_BYBIT, symbol="BTC/USDT")], exchanges=exchanges, now=T0
        )
    with pytest.raises(ValueError, match="no deribit exchange"):
        arbitrage_record(
            pair=PAIR,
            found=[replace(OKX_TO_BYBIT, buy_venue=Venue.DERIBIT)],
            exchanges=exchanges,
            now=T0,
        )
    with pytest.raises(ValueError, match="two opportunities"):
        arbitrage_record(pair=PAIR, found=[OKX_TO_BYBIT, OKX_TO_BYBIT], exchanges=exchanges, now=T0)
    assert not ArbitrageOpportunity.objects.exists()


def test_one_open_opportunity_per_pair_and_direction(exchanges):
    okx, bybit = exchanges[Venue.OKX], exchanges[Venue.BYBIT]
    ArbitrageOpportunityFactory(buy_exchange=okx, sell_exchange=bybit)
    with pytest.raises(IntegrityError), transaction.atomic():
        ArbitrageOpportunityFactory(buy_exchange=okx, sell_exchange=bybit)
    ArbitrageOpportunityFactory(buy_exchange=bybit, sell_exchange=okx)  # the other direction
    ArbitrageOpportunityFactory(buy_exchange=okx, sell_exchange=bybit, closed_at=T1)  # closed
    ArbitrageOpportunityFactory(symbol="BTC/USDT", buy_exchange=okx, sell_exchange=bybit)
    assert ArbitrageOpportunity.objects.count() == 4


def test_a_row_needs_two_exchanges_a_size_and_a_close_after_its_open(exchanges):
    okx, bybit = exchanges[Venue.OKX], exchanges[Venue.BYBIT]
    for bad in (
        {"buy_exchange": okx, "sell_exchange": okx},
        {"buy_exchange": okx, "sell_exchange": bybit, "size": D(0)},
        {"buy_exchange": okx, "sell_exchange": bybit, "closed_at": T0 - timedelta(seconds=1)},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            ArbitrageOpportunityFactory(**bad)
    assert not ArbitrageOpportunity.objects.exists()
