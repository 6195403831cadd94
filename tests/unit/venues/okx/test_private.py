"""The OKX private session without sockets: login, clock sync and private pushes; and the REST
client each stream owns or borrows."""

from __future__ import annotations

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
    ProtocolError,
    StreamState,
    Venue,
)
from exchanges.venues.okx.auth import OkxSigner
from exchanges.venues.okx.private import OkxPrivateSession
from exchanges.venues.ws import OfflineLink
from tests.plugins.venues import load_payload, load_raw
from tests.unit.venues.helpers import StoppedClock

INST = "BTC-USDT"


async def settle(link: OfflineLink) -> None:
    while link.tasks:
        task = link.tasks.pop(0)
        await task


# --------------------------------------------------------------------------- private session


CREDS = Credentials("k", "s", "p")


def private() -> tuple[OkxPrivateSession, OfflineLink]:
    s = OkxPrivateSession(OkxSigner(CREDS, StoppedClock(1_700_000_000_000_000_000)))
    link = OfflineLink()
    s.on_connect(link)
    return s, link


def test_login_then_subscribe():
    s, link = private()
    login = orjson.loads(link.sent[0])
    assert login["op"] == "login" and login["args"][0]["timestamp"] == "1700000000"
    (status,) = s.on_message('{"event":"login","code":"0","msg":"","connId":"a4d3ae55"}', link)
    assert status.state is StreamState.AUTHENTICATED and s.authenticated
    assert orjson.loads(link.sent[1]) == {
        "op": "subscribe",
        "args": [
            {"channel": "orders", "instType": "ANY"},
            {"channel": "orders-algo", "instType": "ANY"},
            {"channel": "positions", "instType": "ANY"},
            {"channel": "account"},
        ],
    }


def test_refused_login_reconnects():
    s, link = private()
    assert (
        s.on_message('{"event":"error","code":"60009","msg":"Login failed.","connId":"a"}', link)
        == []
    )
    assert link.reconnect_reasons == ["login failed 60009: Login failed."]
    assert not s.authenticated


def test_order_push_gives_update_and_one_fill_even_when_repeated():
    s, link = private()
    raw = load_raw("okx", "ws_orders")
    update, fill = s.on_message(raw, link)
    assert isinstance(update, OrderUpdate) and isinstance(fill, FillEvent)
    assert (fill.trade_id, fill.quantity, fill.fee) == ("1518905529", D("0.03"), D("0.021776769"))
    (again,) = s.on_message(raw, link)
    assert isinstance(again, OrderUpdate)


def test_a_venue_made_order_gives_an_account_execution_not_an_order_or_fill():
    """`ws_orders_liquidation_shape.json`: the `orders` push in the documented shape of a
    full liquidation (docs-v5 "WS / Order channel": `category`, `fillPnl`, `fillFee`). The
    venue closed the position; no order of ours is adopted and no fill recorded."""
    s, link = private()
    raw = load_raw("okx", "ws_orders_liquidation_shape")
    (execution,) = s.on_message(raw, link)
    assert execution == AccountExecution(
        venue=Venue.OKX,
        symbol="BTC/USDT:USDT",
        kind=ExecutionKind.LIQUIDATION,
        execution_id="1518999001",
        amount=D("-169.4235075"),
        currency="USDT",
        exchange_ts=1746990000123 * 1_000_000,
        receive_ts=execution.receive_ts,
        quantity=D("-0.03"),
        price=D("98100.5"),
    )
    assert s.on_message(raw, link) == []  # pushed twice: once
    base = load_payload("okx", "ws_orders_liquidation_shape")
    for category, kind in (("adl", ExecutionKind.ADL), ("delivery", ExecutionKind.DELIVERY)):
        item = {**base["data"][0], "category": category, "tradeId": f"t-{category}"}
        (execution,) = s.on_message(orjson.dumps({**base, "data": [item]}), link)
        assert (execution.kind, execution.execution_id) == (kind, f"t-{category}")
    unfilled = {**base["data"][0], "fillSz": "0", "tradeId": "", "state": "live"}
    assert s.on_message(orjson.dumps({**base, "data": [unfilled]}), link) == []


def test_fees_of_successive_fills_come_from_the_accumulated_fee():
    s, link = private()
    base = load_payload("okx", "ws_orders")
    item = {
        **base["data"][0],
        "state": "partially_filled",
        "accFillSz": "0.01",
        "fillSz": "0.01",
        "tradeId": "1",
        "fee": "-0.007",
    }
    first = s.on_message(orjson.dumps({**base, "data": [item]}), link)[1]
    item2 = {**item, "accFillSz": "0.03", "fillSz": "0.02", "tradeId": "2", "fee": "-0.021"}
    second = s.on_message(orjson.dumps({**base, "data": [item2]}), link)[1]
    assert (first.fee, second.fee) == (D("0.007"), D("0.014"))


def test_positions_and_account_pushes():
    s, link = private()
    positions = {
        "arg": {"channel": "positions", "instType": "ANY"},
        "data": load_payload("okx", "rest_positions")["data"],
    }
    (position,) = s.on_message(orjson.dumps(positions), link)
    assert isinstance(position, PositionUpdate) and position.quantity == D("0.5")
    balances = s.on_message(load_raw("okx", "ws_account"), link)
    assert [b.currency for b in balances] == ["USDT", "BTC", "ETH"]
    assert all(isinstance(b, BalanceUpdate) for b in balances)
    assert s.on_message("pong", link) == []
    with pytest.raises(ProtocolError):
        s.on_message('{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT"}]}', link)


async def test_login_waits_for_the_clock_sync():
    signer = OkxSigner(CREDS, StoppedClock(1_700_000_000_000_000_000))

    def sync() -> int:
        signer.clock.offset_ns = 5_000_000_000
        return signer.clock.offset_ns

    s = OkxPrivateSession(signer, clock_sync=sync)
    link = OfflineLink()
    s.on_connect(link)
    assert link.sent == []
    await settle(link)
    assert orjson.loads(link.sent[0])["args"][0]["timestamp"] == "1700000005"


async def test_failed_clock_sync_still_logs_in_with_local_time():
    from exchanges.venues.base import RequestTimeout

    def sync() -> int:
        raise RequestTimeout("no answer")

    s = OkxPrivateSession(
        OkxSigner(CREDS, StoppedClock(1_700_000_000_000_000_000)), clock_sync=sync
    )
    link = OfflineLink()
    s.on_connect(link)
    await settle(link)
    assert orjson.loads(link.sent[0])["args"][0]["timestamp"] == "1700000000"


async def test_streams_close_the_rest_client_they_own_and_only_on_close(monkeypatch):
    from exchanges.venues.base import Credentials, Endpoints
    from exchanges.venues.okx.private import OkxPrivateStream
    from exchanges.venues.okx.public import OkxPublicStream
    from exchanges.venues.okx.rest import OkxRestClient

    closed: list[OkxRestClient] = []
    monkeypatch.setattr(OkxRestClient, "close", lambda self: closed.append(self))
    endpoints = Endpoints("http://127.0.0.1:9", "ws://127.0.0.1:9/pub", "ws://127.0.0.1:9/priv")
    market = OkxPublicStream(endpoints)
    account = OkxPrivateStream(endpoints, Credentials("k", "s", "p"))
    await market.subscribe([INST])
    await market.unsubscribe([INST])
    assert closed == []
    await market.close()
    await account.close()
    assert closed == [market.rest, account.rest]
    shared = OkxRestClient(endpoints, Credentials("k", "s", "p"))
    borrowing = OkxPrivateStream(endpoints, Credentials("k", "s", "p"), rest=shared)
    await borrowing.close()
    assert closed == [market.rest, account.rest]  # a borrowed client stays open
