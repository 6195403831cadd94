"""A full order life on the Bybit face over real sockets, signed the documented way in the test.

Alice rests a bid at the top of the BTCUSDT linear book; Bob's counter-order fills part of it;
Alice amends quantity, then price, then cancels. Alice's private stream must carry what Bybit
sends (order, execution, position, wallet) and the public `orderbook.50` stream must chain by
`u` and always rebuild the engine's book, with the resting bid appearing, shrinking, moving and
disappearing.
"""

from __future__ import annotations

from decimal import Decimal

import aiohttp

from tests.support import harness
from tests.support.bybit import (
    ALICE,
    BOB,
    VENUE,
    BookChecker,
    Rest,
    Stream,
    best,
    bybit_sim,
    topic_is,
)

BOOK = "orderbook.50.BTCUSDT"


async def book_until(stream: Stream, checker: BookChecker, done, timeout: float = 3.0) -> None:
    """Apply book pushes until `done(checker)` holds; other messages stay in `stream.seen`."""
    if done(checker):
        return

    def applied(message: dict) -> bool:
        if message.get("topic") != BOOK:
            return False
        checker.apply(message)
        return done(checker)

    await harness.first(stream.recv, applied, timeout)


async def private_until(stream: Stream, topic: str, predicate) -> dict:
    return await stream.expect(lambda m: m.get("topic") == topic and predicate(m["data"][0]))


async def test_place_partial_fill_amend_cancel_over_real_sockets():
    async with bybit_sim(options={"book_intervals": True}) as sim, aiohttp.ClientSession() as s:
        urls = sim.urls[VENUE]
        alice = Rest(s, urls["rest"], ALICE)
        bob = Rest(s, urls["rest"], BOB)

        feed = Stream(await s.ws_connect(urls["ws_public"] + "/linear"))
        await feed.subscribe(BOOK, "publicTrade.BTCUSDT")
        book = BookChecker()
        book.apply(await feed.expect(topic_is(BOOK)))

        account = Stream(await s.ws_connect(urls["ws_private"]))
        assert (await account.auth(ALICE))["retCode"] == 0
        assert (await account.subscribe("order", "execution", "position", "wallet"))["success"]

        bid, ask = await best(alice, "linear", "BTCUSDT")
        price = bid + Decimal("0.5")
        assert price < ask
        _, placed, _ = await alice.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Buy",
                "orderType": "Limit",
                "qty": "0.010",
                "price": str(price),
                "timeInForce": "GTC",
                "orderLinkId": "life-1",
            },
        )
        assert placed["retCode"] == 0
        order_id = placed["result"]["orderId"]
        new = await private_until(account, "order", lambda d: d["orderLinkId"] == "life-1")
        assert (new["data"][0]["orderStatus"], new["data"][0]["leavesQty"]) == ("New", "0.010")
        await book_until(feed, book, lambda b: b.bids.get(price) == Decimal("0.010"))

        _, crossed, _ = await bob.post(
            "/v5/order/create",
            {
                "category": "linear",
                "symbol": "BTCUSDT",
                "side": "Sell",
                "orderType": "Limit",
                "qty": "0.004",
                "price": str(price),
                "timeInForce": "IOC",
            },
        )
        assert crossed["retCode"] == 0
        execution = (await private_until(account, "execution", lambda d: d["orderId"] == order_id))[
            "data"
        ][0]
        assert (
            execution["execQty"],
            execution["execPrice"],
            execution["isMaker"],
            execution["leavesQty"],
        ) == (
            "0.004",
            str(price),
            True,
            "0.006",
        )
        assert execution["execFee"] == str(
            (Decimal("0.004") * price * Decimal("0.0002")).normalize()
        )
        partial = (
            await private_until(account, "order", lambda d: d["orderStatus"] == "PartiallyFilled")
        )["data"][0]
        assert (partial["cumExecQty"], partial["leavesQty"], partial["avgPrice"]) == (
            "0.004",
            "0.006",
            str(price.normalize()),
        )
        position = (await private_until(account, "position", lambda d: d["symbol"] == "BTCUSDT"))[
            "data"
        ][0]
        assert (position["side"], position["size"], position["entryPrice"]) == (
            "Buy",
            "0.004",
            str(price.normalize()),
        )
        wallet = (await account.expect(topic_is("wallet")))["data"][0]
        usdt = next(c for c in wallet["coin"] if c["coin"] == "USDT")
        assert Decimal(usdt["walletBalance"]) == Decimal("1000000") - Decimal(execution["execFee"])
        trade = (await feed.expect(topic_is("publicTrade.BTCUSDT")))["data"][0]
        assert (trade["p"], trade["v"], trade["S"]) == (str(price), "0.004", "Sell")
        await book_until(feed, book, lambda b: b.bids.get(price) == Decimal("0.006"))

        _, amended, _ = await alice.post(
            "/v5/order/amend",
            {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "life-1", "qty": "0.008"},
        )
        assert amended["result"] == {"orderId": order_id, "orderLinkId": "life-1"}
        smaller = (await private_until(account, "order", lambda d: d["qty"] == "0.008"))["data"][0]
        assert (smaller["orderStatus"], smaller["leavesQty"], smaller["price"]) == (
            "PartiallyFilled",
            "0.004",
            str(price),
        )
        await book_until(feed, book, lambda b: b.bids.get(price) == Decimal("0.004"))

        lower = price - Decimal("1.0")
        _, moved, _ = await alice.post(
            "/v5/order/amend",
            {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id, "price": str(lower)},
        )
        assert moved["retCode"] == 0
        await private_until(account, "order", lambda d: d["price"] == str(lower))
        await book_until(
            feed,
            book,
            lambda b: price not in b.bids and b.bids.get(lower, Decimal(0)) >= Decimal("0.004"),
        )

        _, canceled, _ = await alice.post(
            "/v5/order/cancel", {"category": "linear", "symbol": "BTCUSDT", "orderId": order_id}
        )
        assert canceled["result"] == {"orderId": order_id, "orderLinkId": "life-1"}
        final = (await private_until(account, "order", lambda d: d["orderStatus"] == "Cancelled"))[
            "data"
        ][0]
        assert (final["cancelType"], final["cumExecQty"], final["leavesQty"]) == (
            "CancelByUser",
            "0.004",
            "0",
        )
        before = sim.engine.book(VENUE, "BTCUSDT", 50)
        await book_until(feed, book, lambda b: b.top(50) == before)

        _, rest_book, _ = await alice.get(
            "/v5/market/orderbook",
            {"category": "linear", "symbol": "BTCUSDT", "limit": 50},
            signed=False,
        )
        assert book.top(50) == (
            [(Decimal(p), Decimal(q)) for p, q in rest_book["result"]["b"]],
            [(Decimal(p), Decimal(q)) for p, q in rest_book["result"]["a"]],
        )
        _, history, _ = await alice.get(
            "/v5/order/realtime", {"category": "linear", "orderLinkId": "life-1"}
        )
        [row] = history["result"]["list"]
        assert (row["orderStatus"], row["cumExecQty"], row["qty"], row["price"]) == (
            "Cancelled",
            "0.004",
            "0.008",
            str(lower),
        )
        _, fills, _ = await alice.get(
            "/v5/execution/list", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert [(f["orderId"], f["execQty"], f["isMaker"]) for f in fills["result"]["list"]] == [
            (order_id, "0.004", True)
        ]
        _, positions, _ = await alice.get(
            "/v5/position/list", {"category": "linear", "symbol": "BTCUSDT"}
        )
        assert positions["result"]["list"][0]["size"] == "0.004"
        assert book.messages >= 6


def test_the_thread_runner_serves_bybit_to_plain_clients(sim):
    """The shared `sim` fixture (every face, timed generator): `requests` and `websockets`."""
    import json as jsonlib

    import requests
    from websockets.sync.client import connect

    from exchanges.simulator.demo import DEMO_ACCOUNTS
    from tests.support.bybit import now_ms, sign

    urls = sim.urls[VENUE]
    creds = DEMO_ACCOUNTS[VENUE]
    query = "accountType=UNIFIED&coin=USDT"
    ts = str(now_ms())
    headers = {
        "X-BAPI-API-KEY": creds.api_key,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-SIGN": sign(creds.secret, f"{ts}{creds.api_key}5000{query}"),
        "X-BAPI-RECV-WINDOW": "5000",
    }
    reply = requests.get(
        f"{urls['rest']}/v5/account/wallet-balance?{query}", headers=headers, timeout=5
    )
    [usdt] = reply.json()["result"]["list"][0]["coin"]
    assert (usdt["coin"], usdt["walletBalance"]) == ("USDT", "1000000")

    checker = BookChecker()
    with connect(urls["ws_public"] + "/linear", open_timeout=5) as ws:
        ws.send(jsonlib.dumps({"op": "subscribe", "args": [BOOK]}))
        assert jsonlib.loads(ws.recv(timeout=5))["success"] is True
        while checker.messages < 5:
            checker.apply(jsonlib.loads(ws.recv(timeout=5)))
    assert checker.u is not None and len(checker.bids) == sim.engine.market.config.levels
