"""Deribit public WebSocket session over recorded messages (no socket: `OfflineLink`)."""

import json
from decimal import Decimal

import pytest

from exchanges.venues.base import (
    BookDelta,
    BookSnapshot,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Ticker,
    Trade,
    Venue,
)
from exchanges.venues.deribit import ADAPTER
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit.public import DeribitPublicSession
from exchanges.venues.ws import OfflineLink
from tests.plugins.venues import load_raw
from tests.unit.venues.helpers import sent

D = Decimal
MS = 1_000_000
CHANNEL = "book.BTC-PERPETUAL.100ms"


def change(prev, new, bids=(), asks=()):
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {
                "channel": CHANNEL,
                "data": {
                    "type": "change",
                    "instrument_name": "BTC-PERPETUAL",
                    "timestamp": 1699999999600,
                    "change_id": new,
                    "prev_change_id": prev,
                    "bids": [list(b) for b in bids],
                    "asks": [list(a) for a in asks],
                },
            },
        }
    )


@pytest.fixture
def session():
    return DeribitPublicSession(["BTC-PERPETUAL"])


def test_adapter_session_factory():
    session = ADAPTER.public_session(["BTC-PERPETUAL"], trades=False)
    assert sorted(session.channels) == ["book.BTC-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.100ms"]


def test_connect_sets_heartbeat_and_subscribes_in_batches(link):
    names = [f"BTC-25DEC26-{100000 + 1000 * n}-C" for n in range(50)] + ["BTC-PERPETUAL"] * 2
    session = DeribitPublicSession(names, heartbeat=15)
    session.on_connect(link)
    messages = sent(link)
    assert messages[0]["method"] == "public/set_heartbeat"
    assert messages[0]["params"] == {"interval": 15}
    subscribes = messages[1:]
    assert all(m["method"] == "public/subscribe" for m in subscribes)
    channels = [c for m in subscribes for c in m["params"]["channels"]]
    assert len(channels) == 51 * 3 == len(set(channels))
    assert [len(m["params"]["channels"]) for m in subscribes] == [
        C.WS_SUBSCRIBE_BATCH,
        51 * 3 - C.WS_SUBSCRIBE_BATCH,
    ]
    assert session.ping_interval == 15.0
    assert session.idle_timeout == 45.0
    # a reconnect sends the whole set again
    again = OfflineLink()
    session.on_connect(again)
    assert [c for m in sent(again)[1:] for c in m["params"]["channels"]] == channels


def test_snapshot_then_change(session, link):
    (snapshot,) = session.on_message(load_raw("deribit", "ws_book_snapshot"), link)
    assert isinstance(snapshot, BookSnapshot)
    assert snapshot.venue is Venue.DERIBIT
    assert snapshot.symbol == "BTC/USD:BTC"
    assert snapshot.sequence == 123456789
    assert snapshot.exchange_ts == 1699999999000 * MS
    assert snapshot.bids == (
        (D("42500.0"), D("1000.0")),
        (D("42499.5"), D("500.0")),
        (D("42499.0"), D("750.0")),
        (D("42498.5"), D("1200.0")),
        (D("42498.0"), D("800.0")),
    )
    assert snapshot.asks[0] == (D("42501.0"), D("800.0"))
    assert snapshot.asks[-1] == (D("42503.0"), D("550.0"))

    (delta,) = session.on_message(load_raw("deribit", "ws_book_change"), link)
    assert isinstance(delta, BookDelta)
    assert delta.sequence == 123456790
    assert delta.prev_sequence == 123456789
    assert delta.bids == ((D("42500.0"), D("950.0")), (D("42498.5"), D("300.0")))
    assert delta.asks == ((D("42501.0"), D("0.0")), (D("42501.5"), D("700.0")))
    book = session.books["BTC-PERPETUAL"]
    assert book.best_bid() == (D("42500.0"), D("950.0"))
    assert book.best_ask() == (D("42501.5"), D("700.0"))
    assert book.sequence == 123456790
    assert session.stats.as_dict() == {
        "checksum_mismatches": 0,
        "gaps": 0,
        "messages": 2,
        "rebuilds": 0,
        "updates_applied": 1,
    }


def test_whole_numbers_become_decimals(session, link):
    session.on_message(load_raw("deribit", "ws_book_snapshot"), link)
    (delta,) = session.on_message(change(123456789, 123456790, bids=[["new", 42497, 10]]), link)
    assert delta.bids == ((D(42497), D(10)),)
    assert all(type(x) is Decimal for x in delta.bids[0])


def test_gap_resyncs_and_never_emits_a_wrong_book(session, link):
    session.on_message(load_raw("deribit", "ws_book_snapshot"), link)
    link.sent.clear()
    (status,) = session.on_message(change(123456790, 123456791, bids=[["new", 1, 1]]), link)
    assert isinstance(status, StreamStatus)
    assert status.state is StreamState.RESYNCING
    assert status.stream is StreamKind.PUBLIC
    assert status.symbol == "BTC/USD:BTC"
    assert "123456790" in status.detail and "123456789" in status.detail
    assert session.stats.gaps == 1
    assert "BTC-PERPETUAL" not in session.books
    unsubscribe, subscribe = sent(link)
    assert unsubscribe["method"] == "public/unsubscribe"
    assert unsubscribe["params"] == {"channels": [CHANNEL]}
    assert subscribe["method"] == "public/subscribe"
    assert subscribe["params"] == {"channels": [CHANNEL]}
    # changes in flight before the new snapshot are not applied to anything
    assert session.on_message(change(123456791, 123456792, asks=[["new", 2, 2]]), link) == []
    (snapshot,) = session.on_message(load_raw("deribit", "ws_book_snapshot"), link)
    assert isinstance(snapshot, BookSnapshot)
    assert session.stats.rebuilds == 1
    assert session.books["BTC-PERPETUAL"].best_bid() == (D("42500.0"), D("1000.0"))


def test_change_before_any_snapshot_is_ignored(session, link):
    assert session.on_message(load_raw("deribit", "ws_book_change"), link) == []
    assert session.stats.updates_applied == 0


def test_trades_and_ticker(session, link):
    trades = session.on_message(load_raw("deribit", "ws_trades"), link)
    assert [type(t) for t in trades] == [Trade, Trade]
    assert [t.trade_id for t in trades] == ["403691824", "403691825"]
    assert trades[0].receive_ts == trades[1].receive_ts
    (ticker,) = session.on_message(load_raw("deribit", "ws_ticker"), link)
    assert isinstance(ticker, Ticker)
    assert ticker.best_ask == D("92284.0")


def test_heartbeat_test_request_is_answered(session, link):
    assert session.on_message(load_raw("deribit", "ws_test_request"), link) == []
    (answer,) = sent(link)
    assert answer["method"] == "public/test"
    assert answer["jsonrpc"] == "2.0"
    assert isinstance(answer["id"], int)
    assert json.loads(session.ping())["method"] == "public/test"
    assert (
        session.on_message(
            '{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}', link
        )
        == []
    )
    assert len(link.sent) == 1


def test_subscribe_answer_confirms_channels(link):
    session = DeribitPublicSession()
    session.add(["BTC-PERPETUAL"], tickers=False)
    (request,) = session.subscribe_requests(["trades.BTC-PERPETUAL.100ms", CHANNEL])
    assert request["id"] == 1  # the recorded answer's id
    (status,) = session.on_message(load_raw("deribit", "ws_subscribe_response"), link)
    assert status.state is StreamState.SUBSCRIBED
    assert status.detail == "2 channels"
    assert session.confirmed == {"trades.BTC-PERPETUAL.100ms", CHANNEL}


def test_too_many_requests_ends_the_session(session, link):
    assert session.on_message(load_raw("deribit", "rest_error_response"), link) == []
    assert link.reconnect_reasons == ["too_many_requests ends the session"]


def test_other_errors_and_junk_are_protocol_errors(session, link):
    with pytest.raises(ProtocolError):
        session.on_message(load_raw("deribit", "rest_error_response_docs"), link)
    with pytest.raises(ProtocolError):
        session.on_message(load_raw("deribit", "ws_notification_price_index_docs"), link)
    with pytest.raises(ProtocolError):
        session.on_message("{oops", link)
    with pytest.raises(ProtocolError):
        session.on_message("[1, 2]", link)
    bad = json.loads(load_raw("deribit", "ws_trades"))
    del bad["params"]["data"][0]["price"]
    with pytest.raises(ProtocolError):
        session.on_message(json.dumps(bad), link)


def test_remove_drops_channels_and_book(session, link):
    session.on_message(load_raw("deribit", "ws_book_snapshot"), link)
    gone = session.remove(["BTC-PERPETUAL"])
    assert sorted(gone) == sorted(
        [CHANNEL, "trades.BTC-PERPETUAL.100ms", "ticker.BTC-PERPETUAL.100ms"]
    )
    assert session.books == {}
    assert session.channels == {}


def test_the_same_stream_at_another_interval_is_accepted(session, link):
    raw = load_raw("deribit", "ws_book_snapshot").replace(
        "book.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.raw"
    )
    (snapshot,) = session.on_message(raw, link)
    assert isinstance(snapshot, BookSnapshot)
    other = raw.replace("book.BTC-PERPETUAL.raw", "book.ETH-PERPETUAL.raw")
    with pytest.raises(ProtocolError):
        session.on_message(other, link)
    weird = raw.replace("book.BTC-PERPETUAL.raw", "book.BTC-PERPETUAL.5s")
    with pytest.raises(ProtocolError):
        session.on_message(weird, link)


def test_decoding_edges(session, link):
    padded = "  " + load_raw("deribit", "ws_ticker") + "\n"
    (ticker,) = session.on_message(padded, link)
    assert ticker.best_bid == D("92283.5")
    (again,) = session.on_message(load_raw("deribit", "ws_ticker").encode(), link)
    assert again.best_bid == D("92283.5")
    with pytest.raises(ProtocolError):
        session.on_message('{"jsonrpc": "2.0"} trailing', link)
    with pytest.raises(ProtocolError):
        session.on_message("", link)


def test_books_at_a_chosen_depth_use_the_grouped_channel(link):
    session = DeribitPublicSession(["BTC-PERPETUAL"], depth=10, trades=False, tickers=False)
    assert list(session.channels) == ["book.BTC-PERPETUAL.none.10.100ms"]
    # docs: "The asks and bids fields are both lists of [price, amount] pairs", whole top each time
    message = {
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": {
            "channel": "book.BTC-PERPETUAL.none.10.100ms",
            "data": {
                "timestamp": 1699999999000,
                "instrument_name": "BTC-PERPETUAL",
                "change_id": 77,
                "bids": [[42500.0, 1000.0], [42499.5, 500]],
                "asks": [[42501.0, 800.0]],
            },
        },
    }
    (first,) = session.on_message(json.dumps(message), link)
    assert first.bids == ((D("42500.0"), D("1000.0")), (D("42499.5"), D(500)))
    assert first.asks == ((D("42501.0"), D("800.0")),)
    assert first.sequence == 77
    message["params"]["data"].update(change_id=90, bids=[[42499.5, 10.0]])
    (second,) = session.on_message(json.dumps(message), link)
    assert second.bids == ((D("42499.5"), D("10.0")),)
    assert session.books["BTC-PERPETUAL"].best_bid() == (D("42499.5"), D("10.0"))
    assert session.stats.gaps == 0
    with pytest.raises(ValueError):
        DeribitPublicSession(depth=5)
