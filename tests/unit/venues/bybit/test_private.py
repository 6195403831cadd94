"""Bybit private WebSocket session over recorded messages (sans IO, `OfflineLink`); and the
adapter factories taking instruments as the symbol table."""

from decimal import Decimal as D

import orjson
import pytest

from exchanges.venues.base import (
    AccountExecution,
    BalanceUpdate,
    Credentials,
    ExecutionKind,
    FillEvent,
    OrderUpdate,
    PositionUpdate,
    StreamState,
)
from exchanges.venues.bybit import ADAPTER
from exchanges.venues.bybit.auth import BybitSigner
from exchanges.venues.bybit.private import BybitPrivateSession
from tests.plugins.venues import load_payload, load_raw
from tests.unit.venues.helpers import StoppedClock, sent

MS = 1_000_000
SIGNING_VECTOR = load_payload("bybit", "signing_example_ws_auth")


def raw(message):
    return orjson.dumps(message)


# --------------------------------------------------------------------------- private


@pytest.fixture
def private():
    vector = SIGNING_VECTOR
    signer = BybitSigner(
        Credentials(api_key=vector["api_key"], secret=vector["secret"]),
        StoppedClock((vector["expires"] - 10_000) * 1_000_000),  # the login is valid for 10 s
    )
    return BybitPrivateSession(signer, dead_man_switch=True)


def test_private_login_then_subscribe(private, link):
    private.on_connect(link)
    (auth,) = sent(link)
    # the recorded vector (signing_example_ws_auth): HMAC-SHA256 of "GET/realtime" + expires
    vector = SIGNING_VECTOR
    assert auth == {
        "op": "auth",
        "args": [vector["api_key"], vector["expires"], vector["expected_signature"]],
        "req_id": "auth",
    }
    (status,) = private.on_message(load_raw("bybit", "ws_auth_success"), link)
    assert status.state is StreamState.AUTHENTICATED and private.authenticated
    assert sent(link)[1]["args"] == ["order", "execution", "position", "wallet", "dcp"]


def test_private_login_refused_reconnects(private, link):
    (status,) = private.on_message(load_raw("bybit", "ws_auth_failure"), link)
    assert (status.state, status.detail) == (
        StreamState.DISCONNECTED,
        "auth refused: 10003 Invalid apikey",
    )
    assert link.reconnect_reasons == ["auth refused: 10003 Invalid apikey"]


def test_private_pushes(private, link):
    (order,) = private.on_message(load_raw("bybit", "ws_order"), link)
    assert isinstance(order, OrderUpdate)
    assert (order.symbol, order.client_order_id, order.status) == (
        "BTC/USDT:USDT",
        "client-1",
        "canceled",
    )
    (fill,) = private.on_message(load_raw("bybit", "ws_execution"), link)
    assert isinstance(fill, FillEvent)
    assert (fill.trade_id, fill.quantity, fill.fee, fill.fee_currency) == (
        "0ab1bdf7-4219-438b-b30a-32ec863018f7",
        D("0.5"),
        D("26.3725275"),
        "USDT",
    )
    (position,) = private.on_message(load_raw("bybit", "ws_position"), link)
    assert isinstance(position, PositionUpdate)
    assert (position.symbol, position.quantity, position.exchange_ts) == (
        "ETH/USDT:USDT",
        D("-0.01"),
        1762199125472 * MS,
    )
    balances = private.on_message(load_raw("bybit", "ws_wallet"), link)
    assert [(b.currency, b.total, b.available) for b in balances] == [
        ("BTC", D("0.00102964"), D("0.00092964")),
        ("USDT", D("9647.75537647"), D("9519.89806037")),
    ]
    assert all(isinstance(b, BalanceUpdate) for b in balances)
    assert all(b.exchange_ts == 1700034722104 * MS for b in balances)


def test_executions_the_venue_made_are_account_executions_not_fills(private, link):
    """`ws_execution_account_shape.json` is written in the documented shape of the `execution`
    push (docs v5 "WebSocket Stream > Private > Execution") with the `execType` values of
    "Enums > execType" (Funding, AdlTrade, BustTrade, Delivery): no example is published.
    Funding moves cash only (execFee > 0 paid); ADL, a liquidation takeover and a delivery
    close part of the position at `execPrice`, by the venue's hand."""
    events = private.on_message(load_raw("bybit", "ws_execution_account_shape"), link)
    assert all(isinstance(e, AccountExecution) for e in events)
    assert [
        (e.kind, e.symbol, e.execution_id[:8], e.amount, e.currency, e.quantity, e.price)
        for e in events
    ] == [
        (ExecutionKind.FUNDING, "BTC/USDT:USDT", "f1d5b3c2", D("-0.5325"), "USDT", D(0), None),
        (ExecutionKind.FUNDING, "BTC/USDT:USDT", "f1d5b3c2", D("0.25"), "USDT", D(0), None),
        (ExecutionKind.ADL, "BTC/USDT:USDT", "a7e1c0aa", D("0"), "USDT", D("-0.2"), D("96120.5")),
        (
            ExecutionKind.LIQUIDATION,
            "BTC/USDT:USDT",
            "b0c3d9e1",
            D("-10.5"),
            "USDT",
            D("-0.3"),
            D("91000"),
        ),
        (
            ExecutionKind.DELIVERY,
            "BTC/USDC:USDC-251226",
            "d3b4e5f6",
            D("-0.95"),
            "USDC",
            D("-0.01"),
            D("95000"),
        ),
    ]
    assert events[0].exchange_ts == 1746288000000 * MS
    assert events[0].receive_ts > 0


def test_an_execution_of_unknown_type_is_skipped(private, link):
    message = load_payload("bybit", "ws_execution")
    message["data"][0]["execType"] = "Dividend"
    assert private.on_message(raw(message), link) == []


def test_factories_take_instruments_as_the_symbol_table():
    from exchanges.venues.base import Endpoints
    from exchanges.venues.bybit import parse

    spot = parse.parse_instruments(load_payload("bybit", "rest_instruments_info_spot")["result"])
    endpoints = Endpoints(
        "http://127.0.0.1:9", "ws://127.0.0.1:9/v5/public", "ws://127.0.0.1:9/v5/private"
    )
    stream = ADAPTER.public_stream(endpoints, instruments=spot)
    assert stream.symbols.resolve("ETHUSDT") == ("spot", "ETHUSDT")
    client = ADAPTER.rest_client(endpoints, None, instruments=spot)
    assert client.resolve("BTCUSDT") == ("spot", "BTCUSDT")
    account = ADAPTER.private_stream(endpoints, Credentials("k", "s"), instruments=spot)
    assert account.session.symbols.unified_in("spot", "BTCUSDT") == "BTC/USDT"


def test_private_pong_and_subscription_ack(private, link):
    assert private.on_message(load_raw("bybit", "sim_ws_pong_private"), link) == []
    (status,) = private.on_message(load_raw("bybit", "sim_ws_subscription_ack_private"), link)
    assert (status.state, status.detail) == (
        StreamState.SUBSCRIBED,
        "order,execution,position,wallet,dcp",
    )
