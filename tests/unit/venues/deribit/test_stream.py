"""Deribit WebSocket sessions over recorded messages (no socket: `OfflineLink`)."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest

from exchanges.venues.base import (
    BalanceUpdate,
    BookDelta,
    BookSnapshot,
    Credentials,
    FillEvent,
    OrderUpdate,
    PositionUpdate,
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
from exchanges.venues.deribit.auth import DeribitSigner
from exchanges.venues.deribit.stream import (
    DeribitPrivateSession,
    DeribitPublicSession,
)
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


# --------------------------------------------------------------------------- private

CREDS = Credentials(api_key="client-id-1", secret="client-secret-1")
LOGIN_RESULT = {
    "access_token": "tok",
    "refresh_token": "ref",
    "expires_in": 900,
    "scope": "connection mainaccount",
    "token_type": "bearer",
}


def answer_time(session, link, server_ms=None):
    """Answer the session's `public/get_time`; returns the auth request it sends next."""
    (time_request, _heartbeat) = sent(link)[-2:]
    assert time_request["method"] == "public/get_time"
    server_ms = server_ms if server_ms is not None else time.time_ns() // MS
    link.sent.clear()
    reply = {"jsonrpc": "2.0", "id": time_request["id"], "result": server_ms}
    assert session.on_message(json.dumps(reply), link) == []
    (auth_request,) = sent(link)
    return auth_request


def login(session, link):
    session.on_connect(link)
    auth_request = answer_time(session, link)
    answer = {"jsonrpc": "2.0", "id": auth_request["id"], "result": LOGIN_RESULT}
    link.sent.clear()
    return session.on_message(json.dumps(answer), link)


def test_private_login_signs_and_subscribes_after_auth():
    link = OfflineLink()
    session = DeribitPrivateSession(DeribitSigner(CREDS), cancel_on_disconnect=True)
    session.on_connect(link)
    assert sent(link)[1]["method"] == "public/set_heartbeat"
    auth_request = answer_time(session, link)
    assert auth_request["method"] == "public/auth"
    params = auth_request["params"]
    assert params["grant_type"] == "client_signature"
    assert params["client_id"] == "client-id-1"
    string_to_sign = f"{params['timestamp']}\n{params['nonce']}\n{params['data']}"
    assert (
        params["signature"]
        == hmac.new(b"client-secret-1", string_to_sign.encode(), hashlib.sha256).hexdigest()
    )
    link.sent.clear()
    answer = {"jsonrpc": "2.0", "id": auth_request["id"], "result": LOGIN_RESULT}
    (status,) = session.on_message(json.dumps(answer), link)
    assert status.state is StreamState.AUTHENTICATED
    assert status.stream is StreamKind.PRIVATE
    subscribe, cod = sent(link)
    assert subscribe["method"] == "private/subscribe"
    assert subscribe["params"]["channels"] == [
        "user.orders.any.any.raw",
        "user.trades.any.any.raw",
        "user.changes.any.any.raw",
        "user.portfolio.any",
    ]
    assert cod["method"] == "private/enable_cancel_on_disconnect"
    assert cod["params"] == {"scope": "connection"}
    assert session.token.access_token == "tok"


def test_private_notifications():
    link = OfflineLink()
    session = DeribitPrivateSession(DeribitSigner(CREDS))
    login(session, link)
    (order,) = session.on_message(load_raw("deribit", "ws_user_orders_docs"), link)
    assert isinstance(order, OrderUpdate)
    assert order.venue_order_id == "6"
    fills = session.on_message(load_raw("deribit", "ws_user_trades_docs"), link)
    assert [type(f) for f in fills] == [FillEvent, FillEvent]
    assert fills[0].fee == D("0.00000168")
    (position,) = session.on_message(load_raw("deribit", "ws_user_changes_docs"), link)
    assert isinstance(position, PositionUpdate)
    assert position.quantity == D(185160)
    (balance,) = session.on_message(load_raw("deribit", "ws_user_portfolio"), link)
    assert isinstance(balance, BalanceUpdate)
    assert balance.currency == "USDT"
    assert balance.total == D("55.00055")


def test_private_token_is_refreshed_before_expiry():
    link = OfflineLink()
    session = DeribitPrivateSession(DeribitSigner(CREDS))
    login(session, link)
    assert json.loads(session.ping())["method"] == "public/test"
    session.token.expires_at -= 850
    refresh = json.loads(session.ping())
    assert refresh["method"] == "public/auth"
    assert refresh["params"] == {"grant_type": "refresh_token", "refresh_token": "ref"}
    renewed = dict(LOGIN_RESULT, access_token="tok-2")
    assert (
        session.on_message(
            json.dumps({"jsonrpc": "2.0", "id": refresh["id"], "result": renewed}), link
        )
        == []
    )
    assert session.token.access_token == "tok-2"
    assert not session.token.expires_within(60)


def test_private_auth_failure_reconnects():
    link = OfflineLink()
    session = DeribitPrivateSession(DeribitSigner(CREDS))
    session.on_connect(link)
    auth_id = answer_time(session, link)["id"]
    answer = {
        "jsonrpc": "2.0",
        "id": auth_id,
        "error": {"code": 13004, "message": "invalid_credentials"},
    }
    (status,) = session.on_message(json.dumps(answer), link)
    assert status.state is StreamState.DISCONNECTED
    assert "13004" in status.detail
    assert link.reconnect_reasons and "invalid_credentials" in link.reconnect_reasons[0]
    assert session.authenticated is False


def test_private_too_many_requests_reconnects_and_reauthenticates():
    link = OfflineLink()
    session = DeribitPrivateSession(DeribitSigner(CREDS))
    login(session, link)
    assert session.on_message(load_raw("deribit", "rest_error_response"), link) == []
    assert link.reconnect_reasons == ["too_many_requests ends the session"]
    session.on_disconnect()
    again = OfflineLink()
    session.on_connect(again)
    assert sent(again)[0]["method"] == "public/get_time"
    assert session.token is None
    assert answer_time(session, again)["method"] == "public/auth"


def test_private_login_uses_the_venue_clock():
    link = OfflineLink()
    session = DeribitPrivateSession(DeribitSigner(CREDS))
    session.on_connect(link)
    hour_ahead = time.time_ns() // MS + 3_600_000
    auth_request = answer_time(session, link, server_ms=hour_ahead)
    assert abs(session.clock.offset_ns - 3_600_000 * MS) < 5_000 * MS
    assert abs(auth_request["params"]["timestamp"] - hour_ahead) < 5_000
    # without the time request the local clock is used as it is
    plain = DeribitPrivateSession(DeribitSigner(CREDS), sync_clock=False)
    other = OfflineLink()
    plain.on_connect(other)
    first = sent(other)[0]
    assert first["method"] == "public/auth"
    assert abs(first["params"]["timestamp"] - time.time_ns() // MS) < 5_000


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
