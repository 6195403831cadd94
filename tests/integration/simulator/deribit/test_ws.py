"""The Deribit face's WebSocket: books chained by change_id, trades, tickers, heartbeats,
cancel-on-disconnect and the stream faults, checked on the receiving side."""

import asyncio
from decimal import Decimal

from exchanges.venues.base import Venue
from tests.plugins.venues import load_payload
from tests.support.deribit import (
    SECOND,
    ChainedBook,
    Ws,
    assert_conforms,
    basic_header,
)
from tests.support.harness import DROPPED, eventually

D = Decimal
BOOK_RAW = "book.BTC-PERPETUAL.raw"
BOOK_100MS = "book.BTC-PERPETUAL.100ms"


async def _book_from_rest(http, depth: int = 1000) -> dict:
    _, answer = await http.get(
        "public/get_order_book", {"instrument_name": "BTC-PERPETUAL", "depth": depth}
    )
    return answer["result"]


async def _advance_and_publish(deribit, ws) -> None:
    """Half a second of market, then wait for the `100ms` book channel to publish it (the face's
    flush may run late on a loaded machine; a fixed pause would merge two steps into one)."""
    published = len(ws.on(BOOK_100MS))
    deribit.advance(0.5)
    await eventually(lambda: len(ws.on(BOOK_100MS)) > published)


async def test_books_chain_by_change_id_and_match_the_rest_book(deribit, session, urls, http):
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        await ws.login(SECOND)  # raw channels need an authorized connection
        subscribed = await ws.result("public/subscribe", {"channels": [BOOK_RAW, BOOK_100MS]})
        assert subscribed == [BOOK_RAW, BOOK_100MS]
        await ws.channel(BOOK_100MS)
        for _ in range(10):
            await _advance_and_publish(deribit, ws)
        rest = await _book_from_rest(http)
        await _delivered(ws, rest["change_id"])
        raw, slow = ChainedBook(), ChainedBook()
        for data in ws.on(BOOK_RAW):
            assert raw.apply(data)
        for data in ws.on(BOOK_100MS):
            assert slow.apply(data)
        assert raw.applied > 20 and slow.applied >= 5
        assert raw.gaps == slow.gaps == 0
        assert raw.change_id == slow.change_id == rest["change_id"]
        assert raw.top(1000) == slow.top(1000) == (rest["bids"], rest["asks"])

        snapshot = ws.on(BOOK_RAW)[0]
        change = ws.on(BOOK_RAW)[1]
        assert (snapshot["type"], change["type"]) == ("snapshot", "change")
        expected = load_payload("deribit", "ws_book_snapshot")
        message = next(m for m in ws.notifications if m["params"]["channel"] == BOOK_RAW)
        assert_conforms(message, expected)
        changes = [m for m in ws.notifications if m["params"]["channel"] == BOOK_100MS][1:]
        with_both = next(
            m for m in changes if m["params"]["data"]["bids"] and m["params"]["data"]["asks"]
        )
        assert_conforms(with_both, load_payload("deribit", "ws_book_change"))
    finally:
        await ws.close()


async def _delivered(ws: Ws, change_id: int) -> None:
    """Wait until both book channels carried the change with `change_id`."""
    for channel in (BOOK_RAW, BOOK_100MS):
        await ws.wait_for(
            lambda m, channel=channel: (
                m["params"]["channel"] == channel and m["params"]["data"]["change_id"] == change_id
            )
        )


async def test_skip_book_sequence_fault_shows_as_a_gap(deribit, session, urls, http, faults):
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        await ws.login(SECOND)
        await ws.result("public/subscribe", {"channels": [BOOK_RAW, BOOK_100MS]})
        await ws.channel(BOOK_100MS)
        faults.update(skip_book_sequence=1)
        for _ in range(4):
            await _advance_and_publish(deribit, ws)
        await _delivered(ws, (await _book_from_rest(http))["change_id"])
        raw, slow = ChainedBook(), ChainedBook()
        raw_ok = [raw.apply(d) for d in ws.on(BOOK_RAW)]
        slow_ok = [slow.apply(d) for d in ws.on(BOOK_100MS)]
        assert raw.gaps == 1 and slow.gaps == 1
        assert raw_ok.count(False) == 1 and slow_ok.count(False) == 1
        assert faults.fired["skip_book_sequence"] == 1
    finally:
        await ws.close()


async def test_grouped_book_channel(deribit, session, urls, http):
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        channel = "book.BTC-PERPETUAL.none.10.100ms"
        assert await ws.result("public/subscribe", {"channels": [channel]}) == [channel]
        message = await ws.channel(channel)
        data = message["params"]["data"]
        rest = await _book_from_rest(http, 10)
        assert data["bids"] == rest["bids"] and data["asks"] == rest["asks"]
        assert data["change_id"] == rest["change_id"]
        assert sorted(data) == ["asks", "bids", "change_id", "instrument_name", "timestamp"]
    finally:
        await ws.close()


async def test_raw_channels_need_authorization(session, urls):
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        answer = await ws.call("public/subscribe", {"channels": [BOOK_RAW]})
        assert answer["error"] == {
            "code": 13778,
            "message": "raw_subscriptions_not_available_for_unauthorized",
        }
        assert (
            await ws.result(
                "public/subscribe", {"channels": ["user.orders.BTC-PERPETUAL.raw", "nope.x"]}
            )
            == []
        )
        answer = await ws.call("private/subscribe", {"channels": ["user.orders.BTC-PERPETUAL.raw"]})
        assert answer["error"]["code"] == 13009
        subscribe = load_payload("deribit", "ws_subscribe_response")
        answer = await ws.call("public/subscribe", {"channels": ["trades.BTC-PERPETUAL.100ms"]})
        assert_conforms(answer, subscribe)
    finally:
        await ws.close()


async def test_trades_and_tickers(deribit, session, urls):
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        await ws.login(SECOND)
        channels = [
            "trades.BTC-PERPETUAL.raw",
            "trades.BTC-PERPETUAL.100ms",
            "trades.future.BTC.100ms",
            "ticker.BTC-PERPETUAL.raw",
            "ticker.BTC-PERPETUAL.100ms",
        ]
        assert await ws.result("public/subscribe", {"channels": channels}) == channels

        def flat(channel: str) -> list[dict]:
            return [t for batch in ws.on(channel) for t in batch]

        def printed() -> int:
            return len(deribit.engine.recent_trades(Venue.DERIBIT, "BTC-PERPETUAL", 1000))

        for _ in range(20):
            deribit.advance(0.5)
            count = printed()
            await eventually(lambda n=count: len(flat("trades.BTC-PERPETUAL.raw")) >= n)

        await eventually(
            lambda: (
                flat("trades.BTC-PERPETUAL.100ms") == flat("trades.BTC-PERPETUAL.raw")
                and ws.on("ticker.BTC-PERPETUAL.100ms")[-1:]
                == ws.on("ticker.BTC-PERPETUAL.raw")[-1:]
            )
        )
        raw = [t for batch in ws.on("trades.BTC-PERPETUAL.raw") for t in batch]
        slow = [t for batch in ws.on("trades.BTC-PERPETUAL.100ms") for t in batch]
        by_kind = [t for batch in ws.on("trades.future.BTC.100ms") for t in batch]
        assert len(raw) >= 5
        assert raw == slow
        assert [t["trade_seq"] for t in raw] == list(
            range(raw[0]["trade_seq"], raw[0]["trade_seq"] + len(raw))
        )
        assert [t for t in by_kind if t["instrument_name"] == "BTC-PERPETUAL"] == raw
        assert {t["instrument_name"] for t in by_kind} >= {"BTC-PERPETUAL", "BTC-25DEC26"}
        expected = load_payload("deribit", "ws_trades")
        message = next(
            m for m in ws.notifications if m["params"]["channel"] == "trades.BTC-PERPETUAL.raw"
        )
        assert_conforms(message, expected, {"combo_trade_id"})
        for trade in raw:
            assert trade["contracts"] * 10 == trade["amount"]
            assert trade["direction"] in ("buy", "sell")
        assert ws.on("ticker.BTC-PERPETUAL.raw") and ws.on("ticker.BTC-PERPETUAL.100ms")
        ticker = next(
            m for m in ws.notifications if m["params"]["channel"] == "ticker.BTC-PERPETUAL.100ms"
        )
        assert_conforms(ticker, load_payload("deribit", "ws_ticker"))
        assert ws.on("ticker.BTC-PERPETUAL.100ms")[-1] == ws.on("ticker.BTC-PERPETUAL.raw")[-1]
    finally:
        await ws.close()


async def test_heartbeat_test_requests_and_close_when_unanswered(session, urls, http):
    ws = await Ws.connect(session, urls["ws_private"])
    try:
        answer = await ws.call("public/set_heartbeat", {"interval": 0.01})
        assert answer["error"]["code"] == -32602
        assert await ws.result("public/set_heartbeat", {"interval": 0.3}) == "ok"
        await ws.login(SECOND)
        assert await ws.result("private/enable_cancel_on_disconnect") == "ok"
        order = (
            await ws.result(
                "private/buy", {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": 90000}
            )
        )["order"]
        for round_ in range(3):
            start = len(ws.notifications)
            request = await ws.wait_for(lambda m: m.get("method") == "heartbeat", 2, start)
            assert_conforms(request, load_payload("deribit", "ws_test_request"))
            assert request["params"]["type"] == "test_request"
            assert (await ws.result("public/test"))["version"] == "1.2.26", round_
        await asyncio.wait_for(ws.closed.wait(), 3)  # stopped answering: the venue hangs up
        assert ws.close_code == 1000
    finally:
        await ws.close()

    async def cancelled() -> dict | None:
        _, answer = await http.get(
            "private/get_order_state",
            {"order_id": order["order_id"]},
            {"Authorization": basic_header(SECOND)},
        )
        return answer if answer["result"]["order_state"] == "cancelled" else None

    state = await eventually(cancelled)
    assert state["result"]["cancel_reason"] == "cancel_on_disconnect"


async def test_cancel_on_disconnect_settings_and_logout(session, urls, http, face):
    auth = {"Authorization": basic_header(SECOND)}
    status, answer = await http.get("private/enable_cancel_on_disconnect", {}, auth)
    assert (status, answer["error"]["code"]) == (400, 10030)
    assert (await http.get("private/get_cancel_on_disconnect", {"scope": "account"}, auth))[1][
        "result"
    ] == {"enabled": False, "scope": "account"}
    assert (await http.get("private/enable_cancel_on_disconnect", {"scope": "account"}, auth))[1][
        "result"
    ] == "ok"

    ws = await Ws.connect(session, urls["ws_private"])
    await ws.login(SECOND)
    assert await ws.result("private/get_cancel_on_disconnect") == {
        "enabled": True,
        "scope": "connection",
    }
    kept = (
        await ws.result(
            "private/buy", {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": 90000}
        )
    )["order"]
    assert await ws.result("private/logout") == "ok"
    await asyncio.wait_for(ws.closed.wait(), 3)
    await ws.close()
    await eventually(lambda: not face._conns)
    _, answer = await http.get("private/get_order_state", {"order_id": kept["order_id"]}, auth)
    assert answer["result"]["order_state"] == "open"  # a logout is not a disconnect

    ws = await Ws.connect(session, urls["ws_private"])
    await ws.login(SECOND)
    gone = (
        await ws.result(
            "private/buy", {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": 89000}
        )
    )["order"]
    await ws.close()

    async def states() -> dict | None:
        found = {}
        for order in (kept, gone):
            _, answer = await http.get(
                "private/get_order_state", {"order_id": order["order_id"]}, auth
            )
            found[order["order_id"]] = (
                answer["result"]["order_state"],
                answer["result"].get("cancel_reason"),
            )
        return found if all(state == "cancelled" for state, _ in found.values()) else None

    assert await eventually(states) == {
        kept["order_id"]: ("cancelled", "cancel_on_disconnect"),
        gone["order_id"]: ("cancelled", "cancel_on_disconnect"),
    }


async def test_cancel_on_disconnect_connection_scope_keeps_other_orders(session, urls, http, face):
    face.configure({"cod_cancels": "connection"})
    auth = {"Authorization": basic_header(SECOND)}
    _, placed = await http.get(
        "private/buy", {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": 90000}, auth
    )
    ws = await Ws.connect(session, urls["ws_private"])
    await ws.login(SECOND)
    await ws.result("private/enable_cancel_on_disconnect", {"scope": "connection"})
    mine = (
        await ws.result(
            "private/sell", {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": 110000}
        )
    )["order"]
    await ws.close()

    async def cancelled() -> dict | None:
        _, answer = await http.get("private/get_order_state", {"order_id": mine["order_id"]}, auth)
        return answer if answer["result"]["order_state"] == "cancelled" else None

    await eventually(cancelled)
    _, open_orders = await http.get(
        "private/get_open_orders_by_instrument", {"instrument_name": "BTC-PERPETUAL"}, auth
    )
    assert [o["order_id"] for o in open_orders["result"]] == [placed["result"]["order"]["order_id"]]
    _, state = await http.get("private/get_order_state", {"order_id": mine["order_id"]}, auth)
    assert state["result"]["cancel_reason"] == "cancel_on_disconnect"


async def test_idle_connections_are_closed(session, urls, face):
    face.configure({"idle_timeout": 0.2})
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        await ws.result("public/get_time")
        await asyncio.wait_for(ws.closed.wait(), 3)
    finally:
        await ws.close()


async def test_drop_ws_closes_every_socket(session, urls, faults):
    first = await Ws.connect(session, urls["ws_public"])
    second = await Ws.connect(session, urls["ws_private"])
    try:
        await first.result("public/test")
        await second.result("public/test")
        faults.drop_ws()
        await asyncio.wait_for(first.closed.wait(), 3)
        await asyncio.wait_for(second.closed.wait(), 3)
        assert (first.close_code, second.close_code) == (DROPPED, DROPPED)
    finally:
        await first.close()
        await second.close()


async def test_with_every_face_and_the_timed_generator(sim_async, session):
    """The shared simulator fixture: all faces, the generator stepping on its own."""
    urls = sim_async.urls[Venue.DERIBIT]
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        await ws.result(
            "public/subscribe", {"channels": [BOOK_100MS, "trades.BTC-PERPETUAL.100ms"]}
        )
        book = ChainedBook()
        await ws.wait_for(
            lambda m: (
                m["params"]["channel"] == BOOK_100MS and m["params"]["data"]["type"] == "change"
            )
        )
        await ws.wait_for(lambda m: len(ws.on(BOOK_100MS)) >= 5, timeout=10)
        assert all(book.apply(data) for data in ws.on(BOOK_100MS))
        assert book.gaps == 0 and book.applied >= 4
    finally:
        await ws.close()
