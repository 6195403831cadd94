"""Deribit private WebSocket session over recorded messages (no socket: `OfflineLink`)."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

from exchanges.venues.base import (
    AccountExecution,
    BalanceUpdate,
    Credentials,
    ExecutionKind,
    FillEvent,
    OrderUpdate,
    PositionUpdate,
    StreamKind,
    StreamState,
)
from exchanges.venues.deribit.auth import DeribitSigner
from exchanges.venues.deribit.private import DeribitPrivateSession
from exchanges.venues.ws import OfflineLink
from tests.plugins.venues import load_raw
from tests.unit.venues.helpers import sent

D = Decimal
MS = 1_000_000


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


def test_a_liquidation_of_ours_on_user_trades_is_no_fill():
    """The documented `user.trades` example with the `liquidation` field set on the first
    trade ("T": the taker side, ours, was liquidated; docs "private/get_user_trades_by_currency")."""
    link = OfflineLink()
    session = DeribitPrivateSession(DeribitSigner(CREDS))
    login(session, link)
    message = json.loads(load_raw("deribit", "ws_user_trades_docs"))
    message["params"]["data"][0]["liquidation"] = "T"
    execution, fill = session.on_message(json.dumps(message), link)
    assert isinstance(execution, AccountExecution) and isinstance(fill, FillEvent)
    assert (execution.kind, execution.execution_id, execution.quantity) == (
        ExecutionKind.LIQUIDATION,
        "48079254",
        D(-20),
    )
    assert fill.trade_id == "48079255"
