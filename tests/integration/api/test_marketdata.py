"""REST market data: live book, ticker and consolidated book from the feed's latest state in the
cache; trades, candles and opportunities from the database; every bad query a 400 naming the
parameter."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache

from exchanges.venues.base import Side, Ticker, Trade, Venue
from marketdata import feed, storage
from marketdata.storage import TradeRow
from tests.factories import (
    T0,
    ArbitrageOpportunityFactory,
    ExchangeFactory,
    InstrumentFactory,
)
from tests.plugins.api import assert_error

pytestmark = pytest.mark.django_db

D = Decimal
M0 = T0.replace(second=0, microsecond=0)
NS = 1_000_000_000
SYMBOL = "BTC/USDT:USDT"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def okx():
    return ExchangeFactory(venue="okx", enabled=True, slug="okx-sim")


@pytest.fixture
def swap(okx):
    return InstrumentFactory(exchange=okx, symbol=SYMBOL, venue_symbol="BTC-USDT-SWAP")


def publish(channel: str, data: dict) -> None:
    cache.set(feed.latest_key(channel), feed.merge_latest(channel, None, data))


def book(levels: int = 30) -> dict:
    bids = [(D(65000) - i, D("1.5") + i) for i in range(levels)]
    asks = [(D(65001) + i, D(2) + i) for i in range(levels)]
    return feed.book_data(
        "okx", SYMBOL, bids, asks, sequence=42, exchange_ts=1_700_000_000 * NS, receive_ts=0
    )


# --------------------------------------------------------------------------- live


def test_the_book_is_the_latest_published_to_the_depth_asked(api, swap):
    publish(feed.book_channel("okx", SYMBOL), book())

    response = api["viewer"].get(
        "/api/v1/marketdata/book/", {"venue": "okx", "symbol": SYMBOL, "depth": 2}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "venue": "okx",
        "symbol": SYMBOL,
        "sequence": 42,
        "bids": [["65000", "1.5"], ["64999", "2.5"]],
        "asks": [["65001", "2"], ["65002", "3"]],
        "exchange_time": "2023-11-14T22:13:20.000Z",
        "received_at": None,
    }
    default = api["viewer"].get("/api/v1/marketdata/book/", {"venue": "okx", "symbol": SYMBOL})
    assert len(default.json()["bids"]) == feed.BOOK_DEPTH


def test_a_book_not_received_or_invalidated_is_404(api, swap):
    response = api["trader"].get("/api/v1/marketdata/book/", {"venue": "okx", "symbol": SYMBOL})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"symbol": SYMBOL}, {"venue": ["This field is required."]}),
        ({"venue": "kraken", "symbol": SYMBOL}, {"venue": ['"kraken" is not a valid choice.']}),
        ({"venue": "okx"}, {"symbol": ["This field is required."]}),
        (
            {"venue": "okx", "symbol": "BTC USDT"},
            {"symbol": ["Not a unified symbol (BASE/QUOTE[:SETTLE[-YYMMDD...]])."]},
        ),
        (
            {"venue": "okx", "symbol": "DOGE/USDT"},
            {"symbol": ["no enabled okx exchange lists DOGE/USDT"]},
        ),
        (
            {"venue": "okx", "symbol": SYMBOL, "exchange": "other"},
            {"exchange": ["no enabled okx exchange 'other' lists BTC/USDT:USDT"]},
        ),
        (
            {"venue": "okx", "symbol": SYMBOL, "depth": "0"},
            {"depth": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"venue": "okx", "symbol": SYMBOL, "depth": "x"},
            {"depth": ["A valid integer is required."]},
        ),
    ],
)
def test_bad_book_queries_name_the_parameter(api, swap, params, fields):
    response = api["viewer"].get("/api/v1/marketdata/book/", params)
    assert_error(response, 400, "validation_error", fields)


def test_a_parameter_given_twice_is_refused(api, swap):
    response = api["viewer"].get("/api/v1/marketdata/book/?venue=okx&venue=bybit&symbol=X")
    assert_error(response, 400, "validation_error", {"venue": ["Given more than once."]})


def test_two_enabled_exchanges_of_a_venue_need_the_exchange_named(api, swap):
    other = ExchangeFactory(venue="okx", enabled=True, slug="okx-second")
    InstrumentFactory(exchange=other, symbol=SYMBOL, venue_symbol="BTC-USDT-SWAP")
    publish(feed.book_channel("okx", SYMBOL), book(3))

    response = api["viewer"].get("/api/v1/marketdata/book/", {"venue": "okx", "symbol": SYMBOL})
    error = assert_error(
        response,
        400,
        "validation_error",
        {"exchange": [response.json()["error"]["fields"]["exchange"][0]]},
    )
    assert (
        "okx-second" in error["fields"]["exchange"][0]
        and "okx-sim" in error["fields"]["exchange"][0]
    )
    named = api["viewer"].get(
        "/api/v1/marketdata/book/", {"venue": "okx", "symbol": SYMBOL, "exchange": "okx-sim"}
    )
    assert named.status_code == 200


def test_a_disabled_exchange_s_instruments_are_not_served(api, swap, okx):
    okx.enabled = False
    okx.save()
    response = api["viewer"].get("/api/v1/marketdata/ticker/", {"venue": "okx", "symbol": SYMBOL})
    assert_error(
        response,
        400,
        "validation_error",
        {"symbol": ["no enabled okx exchange lists BTC/USDT:USDT"]},
    )


def ticker(venue, symbol, bid):
    return Ticker(
        venue=Venue(venue),
        symbol=symbol,
        best_bid=D(bid),
        best_bid_size=D(1),
        best_ask=D(bid) + 1,
        best_ask_size=D(2),
        last_price=D(bid),
        exchange_ts=0,
        receive_ts=0,
        mark_price=D("0.5"),
        funding_rate=D("0.0001"),
    )


def test_tickers_one_and_all(api, swap):
    spot = InstrumentFactory(exchange=swap.exchange, symbol="BTC/USDT", venue_symbol="BTC-USDT")
    bybit = ExchangeFactory(venue="bybit", enabled=True)
    InstrumentFactory(exchange=bybit, symbol=SYMBOL, venue_symbol="BTCUSDT")
    for venue, symbol, bid in [
        ("okx", SYMBOL, "100"),
        ("okx", spot.symbol, "99"),
        ("bybit", SYMBOL, "101"),
    ]:
        publish(feed.ticker_channel(venue, symbol), feed.ticker_data(ticker(venue, symbol, bid)))

    one = api["viewer"].get("/api/v1/marketdata/ticker/", {"venue": "okx", "symbol": SYMBOL})
    assert one.status_code == 200
    assert one.json() == {
        "venue": "okx",
        "symbol": SYMBOL,
        "best_bid": "100",
        "best_bid_size": "1",
        "best_ask": "101",
        "best_ask_size": "2",
        "last_price": "100",
        "mark_price": "0.5",
        "index_price": None,
        "funding_rate": "0.0001",
        "open_interest": None,
        "exchange_time": None,
        "received_at": None,
    }
    every = api["viewer"].get("/api/v1/marketdata/tickers/").json()
    assert [(t["venue"], t["symbol"], t["best_bid"]) for t in every] == [
        ("bybit", SYMBOL, "101"),
        ("okx", "BTC/USDT", "99"),
        ("okx", SYMBOL, "100"),
    ]
    okx_only = api["viewer"].get("/api/v1/marketdata/tickers/", {"venue": "okx"}).json()
    assert [t["venue"] for t in okx_only] == ["okx", "okx"]


def test_consolidated_book_of_a_pair(api):
    data = {"symbol": SYMBOL, "venues": ["bybit", "okx"], "bids": [], "asks": []}
    publish(feed.consolidated_channel(SYMBOL), data)

    response = api["viewer"].get("/api/v1/marketdata/consolidated/", {"symbol": SYMBOL})
    assert (response.status_code, response.json()) == (200, data)
    missing = api["viewer"].get("/api/v1/marketdata/consolidated/", {"symbol": "ETH/USDT"})
    assert_error(missing, 404, "not_found")
    assert_error(
        api["viewer"].get("/api/v1/marketdata/consolidated/"),
        400,
        "validation_error",
        {"symbol": ["This field is required."]},
    )


def test_market_data_needs_a_login_and_a_role(client, make_user, client_for, swap):
    assert_error(client.get("/api/v1/marketdata/tickers/"), 401, "not_authenticated")
    nobody = client_for(make_user("no-role"))
    for url in ["tickers/", "trades/?venue=okx&symbol=X", "candles/", "opportunities/"]:
        assert_error(nobody.get(f"/api/v1/marketdata/{url}"), 403, "permission_denied")


# --------------------------------------------------------------------------- history


def trade_rows(instrument, count, start=M0):
    return [
        TradeRow(
            instrument.pk,
            f"t{n}",
            D(100 + n),
            D("0.5"),
            "buy" if n % 2 else "sell",
            start + timedelta(seconds=20 * n),
        )
        for n in range(count)
    ]


def test_trades_newest_first_and_paged(api, swap):
    storage.write_trades(trade_rows(swap, 5))

    first = (
        api["viewer"]
        .get("/api/v1/marketdata/trades/", {"venue": "okx", "symbol": SYMBOL, "page_size": 2})
        .json()
    )
    assert first["results"] == [
        {
            "trade_id": "t4",
            "venue": "okx",
            "symbol": SYMBOL,
            "price": "104",
            "quantity": "0.5",
            "side": "sell",
            "traded_at": "2026-11-25T12:01:20Z",
        },
        {
            "trade_id": "t3",
            "venue": "okx",
            "symbol": SYMBOL,
            "price": "103",
            "quantity": "0.5",
            "side": "buy",
            "traded_at": "2026-11-25T12:01:00Z",
        },
    ]
    rest = api["viewer"].get(first["next"]).json()
    assert [t["trade_id"] for t in rest["results"]] == ["t2", "t1"]


def test_candles_one_minute_and_folded(api, swap):
    storage.write_trades(trade_rows(swap, 9))  # 3 a minute: t0-t2, t3-t5, t6-t8

    params = {
        "venue": "okx",
        "symbol": SYMBOL,
        "start": M0.isoformat(),
        "end": (M0 + timedelta(minutes=3)).isoformat(),
    }
    minutes = api["viewer"].get("/api/v1/marketdata/candles/", params).json()
    assert [
        (c["open"], c["high"], c["low"], c["close"], c["volume"], c["trades"]) for c in minutes
    ] == [
        ("100", "102", "100", "102", "1.5", 3),
        ("103", "105", "103", "105", "1.5", 3),
        ("106", "108", "106", "108", "1.5", 3),
    ]
    folded = api["viewer"].get("/api/v1/marketdata/candles/", {**params, "interval": "5m"}).json()
    assert [
        (c["open"], c["high"], c["low"], c["close"], c["volume"], c["trades"]) for c in folded
    ] == [("100", "108", "100", "108", "4.5", 9)]


@pytest.mark.parametrize(
    ("extra", "fields"),
    [
        ({"interval": "2m"}, {"interval": ['"2m" is not a valid choice.']}),
        (
            {"start": "yesterday"},
            {
                "start": [
                    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
                ]
            },
        ),
        (
            {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            {"start": ["Must be before end."]},
        ),
        (
            {"start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"},
            {"start": ["At most 1000 1m candles a call."]},
        ),
    ],
)
def test_bad_candle_queries_name_the_parameter(api, swap, extra, fields):
    response = api["viewer"].get(
        "/api/v1/marketdata/candles/", {"venue": "okx", "symbol": SYMBOL, **extra}
    )
    assert_error(response, 400, "validation_error", fields)


def test_opportunities_filtered_open_and_by_exchange(api, okx):
    bybit = ExchangeFactory(venue="bybit", slug="bybit-sim")
    open_one = ArbitrageOpportunityFactory(buy_exchange=okx, sell_exchange=bybit, symbol=SYMBOL)
    closed = ArbitrageOpportunityFactory(
        buy_exchange=bybit,
        sell_exchange=okx,
        symbol=SYMBOL,
        closed_at=open_one.opened_at + timedelta(seconds=3),
    )

    every = api["viewer"].get("/api/v1/marketdata/opportunities/").json()["results"]
    assert {o["id"] for o in every} == {open_one.pk, closed.pk}
    still = (
        api["viewer"]
        .get("/api/v1/marketdata/opportunities/", {"is_open": "true"})
        .json()["results"]
    )
    assert [(o["id"], o["buy_exchange"], o["sell_exchange"], o["is_open"]) for o in still] == [
        (open_one.pk, "okx-sim", "bybit-sim", True)
    ]
    by_buyer = (
        api["viewer"]
        .get("/api/v1/marketdata/opportunities/", {"buy_exchange": "bybit-sim"})
        .json()["results"]
    )
    assert [o["id"] for o in by_buyer] == [closed.pk]
    bad = api["viewer"].get("/api/v1/marketdata/opportunities/", {"is_open": "maybe"})
    assert_error(bad, 400, "validation_error", {"is_open": ['Must be "true" or "false".']})


def test_the_schema_lists_the_market_data_operations(client):
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for name in ["book", "ticker", "tickers", "consolidated", "trades", "candles", "opportunities"]:
        assert f"/api/v1/marketdata/{name}/" in paths
    assert "404" in paths["/api/v1/marketdata/book/"]["get"]["responses"]


def test_trades_and_prices_keep_their_decimals(api, swap):
    storage.write_trades([TradeRow(swap.pk, "x", D("65000.123456789"), D("0.000001"), "buy", M0)])
    row = (
        api["viewer"]
        .get("/api/v1/marketdata/trades/", {"venue": "okx", "symbol": SYMBOL})
        .json()["results"][0]
    )
    assert (row["price"], row["quantity"]) == ("65000.123456789", "0.000001")


def test_the_feed_s_trade_data_and_latest_state_keep_the_last_hundred():
    trades = [
        Trade(Venue.OKX, SYMBOL, str(n), D("1.10"), D(2), Side.BUY, NS, NS) for n in range(150)
    ]
    first = feed.trades_data("okx", SYMBOL, trades[:120])
    latest = feed.merge_latest(feed.trades_channel("okx", SYMBOL), None, first)
    latest = feed.merge_latest(
        feed.trades_channel("okx", SYMBOL), latest, feed.trades_data("okx", SYMBOL, trades[120:])
    )
    assert first["trades"][0] == {
        "trade_id": "0",
        "price": "1.10",
        "quantity": "2",
        "side": "buy",
        "time": "1970-01-01T00:00:01.000Z",
    }
    assert [t["trade_id"] for t in latest["trades"]] == [str(n) for n in range(50, 150)]


def test_a_time_with_any_offset_filters_in_utc(api, okx):
    row = ArbitrageOpportunityFactory(buy_exchange=okx, symbol=SYMBOL)
    # 2026-11-25T12:00Z is 2026-11-24T12:58-23:02: PostgreSQL refuses that offset as such
    before = api["viewer"].get(
        "/api/v1/marketdata/opportunities/", {"opened_after": "2026-11-24T12:58:00-23:02"}
    )
    assert [o["id"] for o in before.json()["results"]] == [row.pk]
    after = api["viewer"].get(
        "/api/v1/marketdata/opportunities/", {"opened_after": "2026-11-24T12:59:00-23:02"}
    )
    assert after.json()["results"] == []
