"""The consolidated view and arbitrage detection: sizes in base currency, levels merged across
venues, crossings net of both taker fees. Instrument specs are the simulator's copies of the
venues' real ones (`exchanges/simulator/instruments.py`)."""

from decimal import Decimal

import pytest

from exchanges.simulator.instruments import default_instruments
from exchanges.venues.base import InstrumentInfo, InstrumentKind, Venue
from marketdata.aggregation import (
    ConsolidatedLevel,
    Opportunity,
    VenueBook,
    base_size,
    book_in_base,
    consolidated_book,
    find_opportunities,
    quantity_unit,
    taker_fees,
)

D = Decimal
DERIBIT, OKX, BYBIT = Venue.DERIBIT, Venue.OKX, Venue.BYBIT
LINEAR = "BTC/USDT:USDT"
INVERSE = "BTC/USD:BTC"
SPOT = "BTC/USDT"
FEES = {OKX: D("0.0005"), BYBIT: D("0.00055"), DERIBIT: D("0.0005")}


def info(venue: Venue, symbol: str) -> InstrumentInfo:
    return next(i for i in default_instruments() if i.venue is venue and i.symbol == symbol)


def book(venue: Venue, symbol: str, bids=(), asks=()) -> VenueBook:
    return VenueBook(venue=venue, symbol=symbol, bids=tuple(bids), asks=tuple(asks))


# --------------------------------------------------------------------------- units


def test_linear_contracts_count_contract_size_of_base():
    okx_swap = info(OKX, LINEAR)  # BTC-USDT-SWAP, ctVal 0.01 BTC
    assert quantity_unit(okx_swap) == D("0.01")
    assert base_size(okx_swap, D("65000.1"), D(25)) == D("0.25")
    bybit_linear = info(BYBIT, LINEAR)  # qty in BTC
    assert quantity_unit(bybit_linear) == D(1)
    assert base_size(bybit_linear, D("65000.5"), D("1.5")) == D("1.5")


def test_inverse_contracts_are_quote_divided_by_price():
    okx_inverse = info(OKX, INVERSE)  # BTC-USD-SWAP, ctVal 100 USD, size in contracts
    assert base_size(okx_inverse, D(64000), D(32)) == D("0.05")
    # 100 USD at 65000: 0.15384615384615..., rounded toward zero to 1e-12.
    assert base_size(okx_inverse, D(65000), D(1)) == D("0.001538461538")
    bybit_inverse = info(BYBIT, INVERSE)  # BTCUSD, qty in USD
    assert base_size(bybit_inverse, D(64000), D(6400)) == D("0.1")


def test_deribit_amounts_are_already_usd_whatever_the_contract_size():
    perpetual = info(DERIBIT, INVERSE)  # BTC-PERPETUAL: contract 10 USD, amount in USD
    assert perpetual.contract_size == D(10)
    assert quantity_unit(perpetual) == D(1)
    assert base_size(perpetual, D(80000), D(2000)) == D("0.025")


def test_spot_sizes_are_base_currency():
    assert base_size(info(OKX, SPOT), D("65000.1"), D("0.48792100")) == D("0.48792100")
    assert base_size(info(BYBIT, SPOT), D("65000.5"), D("0.75")) == D("0.75")


def test_an_option_book_is_refused():
    option = next(i for i in default_instruments() if i.kind is InstrumentKind.OPTION)
    with pytest.raises(ValueError, match="option"):
        base_size(option, D("0.05"), D(1))


def test_book_in_base_converts_every_level_and_drops_empty_ones():
    converted = book_in_base(
        info(OKX, LINEAR),
        bids=[(D("65000.1"), D(25)), (D("65000"), D(0))],
        asks=[(D("65000.2"), D(3))],
    )
    assert converted == VenueBook(
        venue=OKX,
        symbol=LINEAR,
        bids=((D("65000.1"), D("0.25")),),
        asks=((D("65000.2"), D("0.03")),),
    )


def test_taker_fees_default_per_market_and_overridable():
    assert taker_fees(InstrumentKind.PERPETUAL) == {
        OKX: D("0.0005"),
        BYBIT: D("0.00055"),
        DERIBIT: D("0.0005"),
    }
    assert taker_fees(InstrumentKind.SPOT, {"okx:spot": "0.0008", "bybit:derivatives": "0"}) == {
        OKX: D("0.0008"),
        BYBIT: D("0.001"),
    }
    with pytest.raises(ValueError, match="okx:swap"):
        taker_fees(InstrumentKind.SPOT, {"okx:swap": "0.0004"})


# --------------------------------------------------------------------------- consolidated book


def three_inverse_books() -> list[VenueBook]:
    """BTC/USD:BTC on Deribit (amounts in USD), OKX (contracts of 100 USD) and Bybit (USD)."""
    return [
        book_in_base(
            info(DERIBIT, INVERSE),
            bids=[(D(64000), D(6400)), (D("63999.5"), D("12799.9"))],
            asks=[(D("64000.5"), D("12800.1")), (D(64001), D("32000.5"))],
        ),
        book_in_base(info(OKX, INVERSE), bids=[(D(64000), D(128))], asks=[(D(64002), D(32))]),
        book_in_base(
            info(BYBIT, INVERSE),
            bids=[(D("63999.5"), D("6399.95"))],
            asks=[(D(64001), D("19200.3"))],
        ),
    ]


def test_consolidated_book_of_three_venues_adds_sizes_in_base():
    view = consolidated_book(INVERSE, three_inverse_books())
    assert view.venues == (BYBIT, DERIBIT, OKX)
    assert view.bids == (
        ConsolidatedLevel(D(64000), D("0.3"), ((DERIBIT, D("0.1")), (OKX, D("0.2")))),
        ConsolidatedLevel(D("63999.5"), D("0.3"), ((BYBIT, D("0.1")), (DERIBIT, D("0.2")))),
    )
    assert view.asks == (
        ConsolidatedLevel(D("64000.5"), D("0.2"), ((DERIBIT, D("0.2")),)),
        ConsolidatedLevel(D(64001), D("0.8"), ((BYBIT, D("0.3")), (DERIBIT, D("0.5")))),
        # 3200 USD at 64002 = 0.0499984375488..., rounded toward zero.
        ConsolidatedLevel(D(64002), D("0.049998437548"), ((OKX, D("0.049998437548")),)),
    )
    assert view.best_bid == view.bids[0]
    assert view.best_ask == view.asks[0]


def test_consolidated_book_keeps_the_best_depth_levels():
    view = consolidated_book(INVERSE, three_inverse_books(), depth=1)
    assert [level.price for level in view.bids] == [D(64000)]
    assert [level.price for level in view.asks] == [D("64000.5")]


def test_consolidated_book_of_nothing_has_no_best_prices():
    view = consolidated_book(SPOT, [book(OKX, SPOT)])
    assert (view.bids, view.asks, view.best_bid, view.best_ask) == ((), (), None, None)


def test_books_of_another_pair_or_twice_one_venue_are_refused():
    with pytest.raises(ValueError, match="BTC/USDT given for BTC/USD:BTC"):
        consolidated_book(INVERSE, [book(OKX, SPOT)])
    with pytest.raises(ValueError, match="one book per venue"):
        consolidated_book(SPOT, [book(OKX, SPOT), book(OKX, SPOT)])


# --------------------------------------------------------------------------- arbitrage

# OKX asks below Bybit bids; the other way round nothing crosses.
OKX_BOOK = book(
    OKX,
    LINEAR,
    bids=[(D(64900), D(1))],
    asks=[(D(65000), D("0.3")), (D(65010), D("0.5")), (D(65100), D(1))],
)
BYBIT_BOOK = book(
    BYBIT,
    LINEAR,
    bids=[(D(65200), D("0.4")), (D(65150), D("0.2")), (D(65050), D(1))],
    asks=[(D(65300), D(1))],
)


def test_a_thin_cross_does_not_pay_both_taker_fees():
    # 10 USDT over 65000 is 1.5 bps; the fees are 5 + 5.5 bps.
    okx = book(OKX, LINEAR, asks=[(D(65000), D(1))])
    bybit = book(BYBIT, LINEAR, bids=[(D(65010), D(1))])
    assert find_opportunities(LINEAR, [okx, bybit], FEES, D(0)) == ()
    no_fees = {OKX: D(0), BYBIT: D(0)}
    assert find_opportunities(LINEAR, [okx, bybit], no_fees, D(0)) == (
        Opportunity(
            symbol=LINEAR,
            buy_venue=OKX,
            sell_venue=BYBIT,
            size=D(1),
            buy_price=D(65000),
            sell_price=D(65010),
            net_edge_quote=D(10),
            net_edge_bps=D("1.5385"),
        ),
    )


def test_a_wide_cross_walks_levels_while_each_pays_both_fees():
    # 0.3 @ 65000 vs 65200: margin 65200 x 0.99945 - 65000 x 1.0005 = 131.64 (x 0.3 = 39.492)
    # 0.1 @ 65010 vs 65200: margin 121.635 (12.1635); 0.2 @ 65010 vs 65150: 71.6625 (14.3325)
    # then 65010 vs 65050 no longer pays the fees: 0.6 BTC, bought 39003, sold 39110.
    assert find_opportunities(LINEAR, [OKX_BOOK, BYBIT_BOOK], FEES, D(0)) == (
        Opportunity(
            symbol=LINEAR,
            buy_venue=OKX,
            sell_venue=BYBIT,
            size=D("0.6"),
            buy_price=D(65005),
            sell_price=D("65183.33333333"),
            net_edge_quote=D("65.988"),
            net_edge_bps=D("16.9187"),  # 65.988 / 39003 x 10000 = 16.91869856...
        ),
    )


def test_only_opportunities_at_or_above_the_threshold():
    books = [OKX_BOOK, BYBIT_BOOK]
    assert len(find_opportunities(LINEAR, books, FEES, D("16.9"))) == 1
    assert find_opportunities(LINEAR, books, FEES, D(17)) == ()
    # Exactly at the threshold counts: 10 over 65000 with no fees is 1.538461... bps, and
    # 10 USDT of edge over 100000 bought is exactly 1 bps.
    okx = book(OKX, LINEAR, asks=[(D(100000), D(1))])
    bybit = book(BYBIT, LINEAR, bids=[(D(100010), D(1))])
    no_fees = {OKX: D(0), BYBIT: D(0)}
    (at,) = find_opportunities(LINEAR, [okx, bybit], no_fees, D(1))
    assert (at.net_edge_bps, at.net_edge_quote) == (D(1), D(10))


def test_no_crossing_gives_nothing():
    okx = book(OKX, LINEAR, bids=[(D(64990), D(1))], asks=[(D(65000), D(1))])
    bybit = book(BYBIT, LINEAR, bids=[(D(64995), D(1))], asks=[(D(65005), D(1))])
    assert find_opportunities(LINEAR, [okx, bybit], FEES, D(0)) == ()


def test_a_crossed_book_of_one_venue_alone_is_not_an_opportunity():
    crossed = book(BYBIT, LINEAR, bids=[(D(66000), D(1))], asks=[(D(65000), D(1))])
    far = book(OKX, LINEAR, bids=[(D(60000), D(1))], asks=[(D(70000), D(1))])
    assert find_opportunities(LINEAR, [crossed], FEES, D(0)) == ()
    assert find_opportunities(LINEAR, [crossed, far], FEES, D(0)) == ()


def test_both_directions_are_looked_at_and_largest_edge_comes_first():
    okx = book(OKX, LINEAR, bids=[(D(66000), D(1))], asks=[(D(65000), D(1))])
    bybit = book(BYBIT, LINEAR, bids=[(D(65500), D(2))], asks=[(D(64000), D(1))])
    no_fees = {OKX: D(0), BYBIT: D(0)}
    found = find_opportunities(LINEAR, [okx, bybit], no_fees, D(0))
    assert [(o.buy_venue, o.sell_venue, o.size, o.net_edge_quote) for o in found] == [
        (BYBIT, OKX, D(1), D(2000)),
        (OKX, BYBIT, D(1), D(500)),
    ]


def test_inverse_books_of_two_venues_cross_in_base_currency():
    deribit = book_in_base(info(DERIBIT, INVERSE), asks=[(D(64000), D(64000))], bids=[])
    okx = book_in_base(info(OKX, INVERSE), bids=[(D(64200), D(321))], asks=[])
    # Deribit sells 1 BTC at 64000 (64000 USD), OKX buys 0.5 BTC at 64200 (321 x 100 USD).
    (found,) = find_opportunities(INVERSE, [deribit, okx], FEES, D(0))
    assert (found.buy_venue, found.sell_venue, found.size) == (DERIBIT, OKX, D("0.5"))
    # 0.5 x (64200 x 0.9995 - 64000 x 1.0005) = 0.5 x 135.9 = 67.95 USD
    assert found.net_edge_quote == D("67.95")
    assert found.net_edge_bps == D("21.2344")  # 67.95 / 32000 x 10000 = 21.234375


def test_a_venue_without_a_fee_is_refused():
    with pytest.raises(ValueError, match="no taker fee"):
        find_opportunities(LINEAR, [OKX_BOOK, BYBIT_BOOK], {OKX: D(0)}, D(0))
