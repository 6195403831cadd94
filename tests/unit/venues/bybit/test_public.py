"""Bybit public WebSocket session and stream over recorded messages (sans IO, `OfflineLink`)."""

import json
from decimal import Decimal as D

import orjson
import pytest

from exchanges.venues.base import (
    BookDelta,
    BookSnapshot,
    ProtocolError,
    StreamState,
    StreamStatus,
    Ticker,
    Trade,
    Venue,
)
from exchanges.venues.bybit import ADAPTER
from exchanges.venues.bybit.public import BybitPublicSession
from exchanges.venues.ws import OfflineLink
from tests.plugins.venues import load_payload, load_raw
from tests.unit.venues.helpers import sent

MS = 1_000_000
SNAPSHOT = load_payload("bybit", "ws_orderbook_snapshot")
DELTA = load_payload("bybit", "ws_orderbook_delta")


def raw(message):
    return orjson.dumps(message)


def with_update_id(message, update_id, kind=None):
    """A recorded book message with another update id (to stage gaps and restarts)."""
    copy = json.loads(json.dumps(message))
    copy["data"]["u"] = update_id
    if kind:
        copy["type"] = kind
    return copy


@pytest.fixture
def session():
    return BybitPublicSession("linear", ["BTCUSDT"], depth=1)


def test_snapshot_then_delta(session, link):
    (snapshot,) = session.on_message(load_raw("bybit", "ws_orderbook_snapshot"), link)
    assert snapshot == BookSnapshot(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        bids=((D("27450.00"), D("0.500")), (D("27449.50"), D("1.000"))),
        asks=((D("27451.00"), D("0.750")), (D("27451.50"), D("0.900"))),
        sequence=123456789,
        exchange_ts=1709891679000 * MS,
        receive_ts=snapshot.receive_ts,
    )
    (delta,) = session.on_message(load_raw("bybit", "ws_orderbook_delta"), link)
    assert delta == BookDelta(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        bids=((D("27450.00"), D("0.400")),),
        asks=((D("27451.00"), D("0")),),
        sequence=123456790,
        prev_sequence=123456789,
        exchange_ts=1709891679500 * MS,
        receive_ts=delta.receive_ts,
    )
    book = session.books["BTCUSDT"]
    assert (book.best_bid(), book.best_ask()) == (
        (D("27450.00"), D("0.400")),
        (D("27451.50"), D("0.900")),
    )
    assert session.stats.as_dict() == {
        "checksum_mismatches": 0,
        "gaps": 0,
        "messages": 2,
        "rebuilds": 0,
        "updates_applied": 1,
    }
    assert link.sent == []


def test_gap_resubscribes_and_never_emits_a_wrong_book(session, link):
    session.on_message(raw(SNAPSHOT), link)
    (status,) = session.on_message(raw(with_update_id(DELTA, 123456791)), link)
    assert status == StreamStatus(
        Venue.BYBIT,
        "public",
        StreamState.RESYNCING,
        status.receive_ts,
        "book gap on orderbook.1.BTCUSDT: u=123456791 after 123456789; resubscribing",
        "BTC/USDT:USDT",
    )
    assert [(m["op"], m["args"]) for m in sent(link)] == [
        ("unsubscribe", ["orderbook.1.BTCUSDT"]),
        ("subscribe", ["orderbook.1.BTCUSDT"]),
    ]
    assert "BTCUSDT" not in session.books
    assert session.on_message(raw(with_update_id(DELTA, 123456792)), link) == []
    (rebuilt,) = session.on_message(raw(with_update_id(SNAPSHOT, 200)), link)
    assert isinstance(rebuilt, BookSnapshot) and rebuilt.sequence == 200
    (delta,) = session.on_message(raw(with_update_id(DELTA, 201)), link)
    assert (delta.sequence, delta.prev_sequence) == (201, 200)
    stats = session.stats
    assert (stats.gaps, stats.rebuilds, stats.updates_applied, stats.messages) == (1, 1, 1, 5)


def test_delta_before_any_snapshot_is_a_gap(session, link):
    (status,) = session.on_message(raw(DELTA), link)
    assert status.state is StreamState.RESYNCING and status.symbol == "BTC/USDT:USDT"
    assert session.stats.gaps == 1


def test_restart_snapshot_with_u_1_replaces_the_book(session, link):
    session.on_message(raw(SNAPSHOT), link)
    restart = with_update_id(SNAPSHOT, 1)
    restart["data"]["b"] = [["27000.00", "2.000"]]
    (snapshot,) = session.on_message(raw(restart), link)
    assert snapshot.sequence == 1
    assert session.books["BTCUSDT"].best_bid() == (D("27000.00"), D("2.000"))
    (delta,) = session.on_message(raw(with_update_id(DELTA, 2)), link)
    assert delta.prev_sequence == 1


def test_subscriptions_are_batched_by_ten_and_resent_on_connect(link):
    session = BybitPublicSession("spot", ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"])
    session.on_connect(link)
    requests = sent(link)
    assert [len(r["args"]) for r in requests] == [10, 2]
    assert requests[0]["op"] == "subscribe"
    assert requests[0]["args"][:3] == [
        "orderbook.50.BTCUSDT",
        "publicTrade.BTCUSDT",
        "tickers.BTCUSDT",
    ]
    assert session.remove(["SOLUSDT"]) == [
        "orderbook.50.SOLUSDT",
        "publicTrade.SOLUSDT",
        "tickers.SOLUSDT",
    ]
    again = OfflineLink()
    session.on_connect(again)
    assert sum(len(r["args"]) for r in sent(again)) == 9
    assert session.ping() == '{"op":"ping"}'


def test_depths_are_checked_per_category():
    with pytest.raises(ValueError):
        BybitPublicSession("option", ["BTC-26DEC25-100000-C"], depth=50)
    assert BybitPublicSession("option", []).depth == 25


def test_trades(session, link):
    message = load_payload("bybit", "ws_publicTrade")
    message["topic"] = "publicTrade.BTCUSDT"  # the recorded file names it trade.linear.BTCUSDT
    (trade,) = session.on_message(raw(message), link)
    assert trade == Trade(
        Venue.BYBIT,
        "BTC/USDT:USDT",
        "9dc75fca-4bdd-4773-9f78-6f5d7ab2a110",
        D("27451.00"),
        D("0.010"),
        "buy",
        1709891679000 * MS,
        trade.receive_ts,
    )
    with pytest.raises(ProtocolError):
        session.on_message(load_raw("bybit", "ws_publicTrade"), link)


def test_ticker_snapshot_then_partial_delta(session, link):
    (ticker,) = session.on_message(load_raw("bybit", "ws_tickers"), link)
    assert (ticker.best_bid, ticker.best_ask, ticker.mark_price) == (
        D("17215.50"),
        D("17216.00"),
        D("17217.33"),
    )
    delta = {
        "topic": "tickers.BTCUSDT",
        "type": "delta",
        "data": {"symbol": "BTCUSDT", "bid1Price": "17216.50", "bid1Size": "1.000"},
        "cs": 24987956060,
        "ts": 1673272861700,
    }
    (merged,) = session.on_message(raw(delta), link)
    assert merged == Ticker(
        Venue.BYBIT,
        "BTC/USDT:USDT",
        D("17216.50"),
        D("1.000"),
        D("17216.00"),
        D("83.020"),
        D("17216.00"),
        1673272861700 * MS,
        merged.receive_ts,
        mark_price=D("17217.33"),
        index_price=D("17227.36"),
        funding_rate=D("-0.000212"),
        open_interest=D("68744.761"),
        volume_24h=D("91705.276"),
    )


def test_replies(session, link):
    (status,) = session.on_message(load_raw("bybit", "ws_subscription_ack"), link)
    assert (status.state, status.detail) == (StreamState.SUBSCRIBED, "linear sub-orderbook-1")
    with pytest.raises(ProtocolError, match=r"invalid\.topic\.BTCUSDT"):
        session.on_message(load_raw("bybit", "ws_subscription_failure"), link)
    pong = {"success": True, "ret_msg": "pong", "conn_id": "c", "op": "ping"}
    assert session.on_message(raw(pong), link) == []
    with pytest.raises(ProtocolError):
        session.on_message(b"{not json", link)
    with pytest.raises(ProtocolError):
        session.on_message(raw({"topic": "kline.1.BTCUSDT", "data": []}), link)
    broken = with_update_id(SNAPSHOT, 5)
    del broken["data"]["b"]
    with pytest.raises(ProtocolError):
        session.on_message(raw(broken), link)


def test_public_session_factory():
    session = ADAPTER.public_session(["BTCUSD"], category="inverse", depth=200)
    assert (session.category, session.depth, next(iter(session.topics))) == (
        "inverse",
        200,
        "orderbook.200.BTCUSD",
    )


def test_fast_book_path_matches_the_shared_order_book(link):
    """The session's direct SortedDict update and price cache give the same book as
    `OrderBook.apply_delta` over a long random stream (equal prices spelled differently too)."""
    import random

    from exchanges.venues.book import OrderBook

    rng = random.Random(7)
    session = BybitPublicSession("linear", ["BTCUSDT"], depth=50)
    reference = OrderBook("BTC/USDT:USDT")
    snapshot = with_update_id(SNAPSHOT, 1, "snapshot")
    snapshot["topic"] = "orderbook.50.BTCUSDT"
    session.on_message(raw(snapshot), link)
    reference.apply_snapshot(
        [(D(p), D(s)) for p, s in snapshot["data"]["b"]],
        [(D(p), D(s)) for p, s in snapshot["data"]["a"]],
        1,
    )

    def level(mid, sign):
        price = D(mid) + sign * D("0.5") * rng.randint(1, 30)
        text = str(price) if rng.random() < 0.5 else f"{price:.2f}"
        return [text, rng.choice(["0", "0", f"{rng.randint(1, 900) / 100:.3f}"])]

    for update_id in range(2, 3000):
        delta = with_update_id(DELTA, update_id)
        delta["topic"] = "orderbook.50.BTCUSDT"
        delta["data"]["b"] = [level("27450", -1) for _ in range(rng.randint(0, 4))]
        delta["data"]["a"] = [level("27450", 1) for _ in range(rng.randint(0, 4))]
        (event,) = session.on_message(raw(delta), link)
        reference.apply_delta(event.bids, event.asks, update_id)
    book = session.books["BTCUSDT"]
    assert list(book.bids.items()) == list(reference.bids.items())
    assert list(book.asks.items()) == list(reference.asks.items())
    assert book.sequence == reference.sequence == 2999
    assert book.bids and book.asks and not book.is_crossed()


def test_book_messages_after_an_unsubscribe_are_ignored(session, link):
    session.on_message(raw(SNAPSHOT), link)
    assert session.remove(["BTCUSDT"]) == [
        "orderbook.1.BTCUSDT",
        "publicTrade.BTCUSDT",
        "tickers.BTCUSDT",
    ]
    assert session.on_message(raw(DELTA), link) == []
    assert session.on_message(raw(SNAPSHOT), link) == []
    assert (link.sent, session.books, session.stats.gaps) == ([], {}, 0)


def test_public_urls_per_category():
    from exchanges.venues.bybit import constants as C
    from exchanges.venues.bybit.public import BybitPublicStream

    stream = BybitPublicStream(C.LIVE_ENDPOINTS)
    assert [stream.url(c) for c in ("spot", "linear", "inverse", "option")] == [
        "wss://stream.bybit.com/v5/public/spot",
        "wss://stream.bybit.com/v5/public/linear",
        "wss://stream.bybit.com/v5/public/inverse",
        "wss://stream.bybit.com/v5/public/option",
    ]
    assert BybitPublicStream(C.TESTNET_ENDPOINTS).url("spot") == (
        "wss://stream-testnet.bybit.com/v5/public/spot"
    )


@pytest.mark.parametrize(
    "name", ["sim_ws_pong_public_spot", "sim_ws_pong_public_linear", "sim_ws_pong_public_option"]
)
def test_public_pongs_are_silent(name, link):
    assert BybitPublicSession("spot", ["BTCUSDT"]).on_message(load_raw("bybit", name), link) == []


def test_spot_subscription_ack_and_ticker(link):
    spot = BybitPublicSession("spot", ["BTCUSDT"])
    (status,) = spot.on_message(load_raw("bybit", "sim_ws_subscription_ack_spot"), link)
    assert (status.state, status.detail) == (StreamState.SUBSCRIBED, "spot 10001")
    (ticker,) = spot.on_message(load_raw("bybit", "sim_ws_tickers_spot"), link)
    assert ticker == Ticker(
        Venue.BYBIT,
        "BTC/USDT",
        None,
        None,
        None,
        None,
        D("21109.77"),
        1673853746003 * MS,
        ticker.receive_ts,
        index_price=D("21120.2400136"),
        volume_24h=D("6780.866843"),
    )
