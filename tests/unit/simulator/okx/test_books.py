"""OKX book channels in the three book modes, the checksum against the docs' worked examples,
and the fault switches, over real sockets (okx/books.py and the faces' fault handling)."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import aiohttp
import pytest

from exchanges.simulator.okx.books import book_checksum, checksum_string
from exchanges.venues.base import Venue
from tests.plugins.venues import load_payload
from tests.support.harness import DROPPED, expect_close
from tests.support.okx import (
    LocalBook,
    OkxRest,
    book_pushes,
    drain,
    login_request,
    receive_json,
    receive_until,
    start_okx,
)

OKX = Venue.OKX


INST = "BTC-USDT-SWAP"


TIMEOUT = aiohttp.ClientTimeout(total=5)


async def _subscribe(session, simulator, channel: str, inst: str = INST):
    ws = await session.ws_connect(simulator.urls[OKX]["ws_public"])
    await ws.send_json({"op": "subscribe", "args": [{"channel": channel, "instId": inst}]})
    ack = await receive_json(ws)
    assert ack["event"] == "subscribe"
    return ws


async def _run_market(simulator, ws, rounds: int = 6) -> list:
    messages = []
    for _ in range(rounds):
        simulator.advance(0.5)
        messages += await drain(ws, quiet=0.15)
    messages += await drain(ws)
    return messages


def _engine_book(simulator, depth=None):
    bids, asks = simulator.engine.book(OKX, INST, depth)
    return [(p, q) for p, q in bids], [(p, q) for p, q in asks]


@pytest.mark.parametrize("mode", ["current", "checksum"])
async def test_snapshot_then_chained_updates_rebuild_the_engine_book(mode):
    simulator = await start_okx({"book_mode": mode})
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            ws = await _subscribe(session, simulator, "books")
            pushes = book_pushes(await _run_market(simulator, ws), "books")
            assert pushes[0][0] == "snapshot"
            book = LocalBook()
            for action, item in pushes:
                book.apply(action, item)
            assert book.messages >= 6
            assert book.as_decimals() == _engine_book(simulator)
            if mode == "checksum":
                assert book.checksums_verified == book.messages
            else:
                assert {item["checksum"] for _, item in pushes} == {0}
            assert book.seq == simulator.faces[OKX]._seq[INST]
            await ws.close()
    finally:
        await simulator.stop()


async def test_no_snapshot_mode_starts_from_the_rest_book():
    simulator = await start_okx({"book_mode": "no_snapshot"})
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
            ws = await _subscribe(session, simulator, "books")
            simulator.advance(0.5)
            buffered = book_pushes(await drain(ws), "books")
            assert buffered and all(action == "update" for action, _ in buffered)
            simulator.advance(0.5)  # the stream moves on before the REST answer
            _, rest_book = await rest.get(
                f"/api/v5/market/books?instId={INST}&sz=400", signed=False
            )
            buffered += book_pushes(await drain(ws), "books")
            book = LocalBook()
            book.load_rest(rest_book["data"][0])
            for item in book.sync_buffered([item for _, item in buffered]):
                book.apply("update", item)
            for action, item in book_pushes(await _run_market(simulator, ws, rounds=3), "books"):
                book.apply(action, item)
            assert book.as_decimals() == _engine_book(simulator)
            await ws.close()
    finally:
        await simulator.stop()


async def test_tbt_channels_and_depth_limits():
    simulator = await start_okx({"book_mode": "checksum"})
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            sockets = {}
            for channel in ("books-l2-tbt", "books50-l2-tbt", "books5", "bbo-tbt"):
                sockets[channel] = await _subscribe(session, simulator, channel)
            simulator.advance(1.0)
            results = {
                channel: book_pushes(await drain(ws), channel) for channel, ws in sockets.items()
            }
            for channel, depth in (("books-l2-tbt", None), ("books50-l2-tbt", 50)):
                book = LocalBook()
                for action, item in results[channel]:
                    book.apply(action, item)
                assert book.checksums_verified == book.messages >= 2
                bids, asks = _engine_book(simulator, depth)
                assert book.as_decimals() == (bids, asks)
            for channel, depth in (("books5", 5), ("bbo-tbt", 1)):
                last = results[channel][-1][1]
                bids, asks = _engine_book(simulator, depth)
                assert [(Decimal(p), Decimal(q)) for p, q, *_ in last["bids"]] == bids
                assert [(Decimal(p), Decimal(q)) for p, q, *_ in last["asks"]] == asks
                assert all(len(item["bids"]) <= depth for _, item in results[channel])
            assert results["books5"][-1][1]["instId"] == INST
            for ws in sockets.values():
                await ws.close()
    finally:
        await simulator.stop()


async def test_skipped_sequence_is_seen_as_a_gap():
    simulator = await start_okx()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            ws = await _subscribe(session, simulator, "books")
            first = await receive_until(ws, lambda m: m.get("action") == "snapshot")
            simulator.faults[OKX].update(skip_book_sequence=1)
            pushes = book_pushes(await _run_market(simulator, ws, rounds=3), "books")
            chain = [first["data"][0]["seqId"]] + [item["seqId"] for _, item in pushes]
            prevs = [item["prevSeqId"] for _, item in pushes]
            gaps = [i for i, prev in enumerate(prevs) if prev != chain[i]]
            assert len(gaps) == 1
            assert simulator.faults[OKX].fired["skip_book_sequence"] == 1
            await ws.close()
    finally:
        await simulator.stop()


async def test_corrupted_checksum_fails_verification_once():
    simulator = await start_okx({"book_mode": "checksum"})
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            ws = await _subscribe(session, simulator, "books")
            first = book_pushes(
                [await receive_until(ws, lambda m: m.get("action") == "snapshot")], "books"
            )
            simulator.faults[OKX].update(corrupt_checksum=1)
            pushes = first + book_pushes(await _run_market(simulator, ws, rounds=3), "books")
            book = LocalBook()
            failures = 0
            for action, item in pushes:
                try:
                    book.apply(action, item)
                except AssertionError as error:
                    assert "checksum" in str(error)
                    failures += 1
            assert failures == 1
            await ws.close()
    finally:
        await simulator.stop()


async def _private(session, simulator, *args):
    ws = await session.ws_connect(simulator.urls[OKX]["ws_private"])
    await ws.send_json(login_request(simulator.credentials[OKX]))
    assert (await receive_json(ws))["event"] == "login"
    await ws.send_json({"op": "subscribe", "args": list(args)})
    events = [m for m in await drain(ws, quiet=0.1) if "event" in m]
    assert [m["arg"] for m in events if m["event"] == "subscribe"] == list(args)
    counts = [m for m in events if m["event"] == "channel-conn-count"]
    assert [(m["channel"], m["connCount"]) for m in counts] == [(a["channel"], "1") for a in args]
    return ws


def _order(px: str, cl: str, sz: str = "1"):
    return {
        "instId": INST,
        "tdMode": "cross",
        "side": "buy",
        "ordType": "limit",
        "px": px,
        "sz": sz,
        "clOrdId": cl,
    }


async def test_duplicate_and_reordered_private_pushes():
    simulator = await start_okx()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
            ws = await _private(session, simulator, {"channel": "orders", "instType": "ANY"})
            simulator.faults[OKX].update(duplicate_private=1)
            await rest.post("/api/v5/trade/order", _order("90000", "dup1"))
            pushes = [m["data"][0] for m in await drain(ws)]
            assert [(p["clOrdId"], p["state"]) for p in pushes] == [
                ("dup1", "live"),
                ("dup1", "live"),
            ]
            simulator.faults[OKX].update(reorder_private=1)
            await rest.post("/api/v5/trade/order", _order("90000", "re1"))
            await rest.post("/api/v5/trade/cancel-order", {"instId": INST, "clOrdId": "re1"})
            pushes = [m["data"][0] for m in await drain(ws)]
            assert [(p["clOrdId"], p["state"]) for p in pushes] == [
                ("re1", "canceled"),
                ("re1", "live"),
            ]
            assert pushes[0]["cancelSource"] == "1"
            await ws.close()
    finally:
        await simulator.stop()


async def test_lost_and_delayed_acks_leave_the_order_accepted():
    simulator = await start_okx(faults={"lose_acks": 1, "lost_ack_wait_ms": 20})
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
            ws = await _private(session, simulator, {"channel": "orders", "instType": "SWAP"})
            with pytest.raises(aiohttp.ClientError):
                await rest.post("/api/v5/trade/order", _order("90000", "lost1"))
            push = await receive_until(ws, lambda m: "data" in m)
            assert (push["data"][0]["clOrdId"], push["data"][0]["state"]) == ("lost1", "live")
            status, found = await rest.get(f"/api/v5/trade/order?instId={INST}&clOrdId=lost1")
            assert (status, found["data"][0]["state"]) == (200, "live")
            simulator.faults[OKX].update(ack_delay_ms=150)
            started = time.monotonic()
            status, placed = await rest.post("/api/v5/trade/order", _order("90000", "slow1"))
            assert placed["code"] == "0" and time.monotonic() - started >= 0.14
            await ws.close()
    finally:
        await simulator.stop()


async def test_drop_ws_closes_every_socket_abruptly():
    simulator = await start_okx()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            public = await _subscribe(session, simulator, "tickers")
            private = await _private(session, simulator, {"channel": "account"})
            await drain(public, quiet=0.1)
            await drain(private, quiet=0.1)
            simulator.faults[OKX].drop_ws()
            for ws in (public, private):
                await expect_close(ws, DROPPED)
                assert ws.close_code != 1000
    finally:
        await simulator.stop()


async def test_cancel_all_after_cancels_every_open_order():
    simulator = await start_okx({"cancel_all_after_scale": 0.02, "rate_limits": False})
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
            ws = await _private(session, simulator, {"channel": "orders", "instType": "ANY"})
            await rest.post("/api/v5/trade/order", _order("90000", "dm1"))
            await rest.post(
                "/api/v5/trade/order",
                {**_order("1000", "dm2", "0.001"), "instId": "BTC-USDT", "tdMode": "cash"},
            )
            status, bad = await rest.post("/api/v5/trade/cancel-all-after", {"timeOut": "5"})
            assert (status, bad["code"]) == (400, "51000")
            status, armed = await rest.post("/api/v5/trade/cancel-all-after", {"timeOut": "10"})
            item = armed["data"][0]
            assert int(item["triggerTime"]) - int(item["ts"]) == 10_000
            canceled = []
            while len(canceled) < 2:
                push = await receive_until(
                    ws, lambda m: "data" in m and m["data"][0]["state"] == "canceled"
                )
                canceled.append((push["data"][0]["clOrdId"], push["data"][0]["cancelSource"]))
            assert sorted(canceled) == [("dm1", "20"), ("dm2", "20")]
            status, pending = await rest.get("/api/v5/trade/orders-pending")
            assert pending["data"] == []
            status, off = await rest.post("/api/v5/trade/cancel-all-after", {"timeOut": "0"})
            assert off["data"][0]["triggerTime"] == "0"
            await ws.close()
    finally:
        await simulator.stop()


async def test_an_unchanged_book_gets_the_keepalive_update():
    simulator = await start_okx({"book_keepalive_s": 0.3, "book_mode": "checksum"})
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            ws = await _subscribe(session, simulator, "books")
            snapshot = await receive_until(ws, lambda m: m.get("action") == "snapshot")
            keepalive = await receive_until(ws, lambda m: m.get("action") == "update")
            item = keepalive["data"][0]
            seq = snapshot["data"][0]["seqId"]
            assert (item["asks"], item["bids"], item["prevSeqId"], item["seqId"]) == (
                [],
                [],
                seq,
                seq,
            )
            assert item["checksum"] == snapshot["data"][0]["checksum"]
            book = LocalBook()
            book.apply("snapshot", snapshot["data"][0])
            book.apply("update", item)
            assert book.checksums_verified == 2
            await ws.close()
    finally:
        await simulator.stop()


async def test_tickers_are_pushed_at_most_every_100_ms():
    simulator = await start_okx()
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            ws = await _subscribe(session, simulator, "tickers")
            first = await receive_until(ws, lambda m: "data" in m)
            assert first["data"][0]["instId"] == INST
            loop = asyncio.get_running_loop()
            started = loop.time()
            while loop.time() - started < 0.5:
                simulator.advance(0.05)  # every step moves the top of the book
                await asyncio.sleep(0.005)  # pacing the market against the 100 ms limit
            elapsed = loop.time() - started
            pushes = [m for m in await drain(ws, quiet=0.25) if "data" in m]
            assert 2 <= len(pushes) <= elapsed / 0.1 + 2
            stamps = [int(m["data"][0]["ts"]) for m in pushes]
            assert stamps == sorted(stamps)
            await ws.close()
    finally:
        await simulator.stop()


def test_checksum_reproduces_both_worked_examples_of_the_docs():
    for example in load_payload("okx", "checksum_examples_docs")["examples"]:
        assert checksum_string(example["bids"], example["asks"]) == example["check_string"]
        assert book_checksum(example["bids"], example["asks"]) == example["checksum"]


def test_checksum_string_interleaves_bids_and_asks_like_the_docs_example():
    # OKX docs "Order book channel", checksum example (bids 3366.1/3366, asks 3366.8/3368).
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    assert checksum_string(bids, asks) == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert book_checksum(bids, asks) == -1881014294  # CRC32 2413953002 as signed 32-bit


def test_checksum_of_uneven_sides_appends_the_longer_side_and_stays_positive_when_small():
    bids = [["8476.97", "256"], ["8475.55", "101"]]
    asks = [["8476.98", "415"], ["8477", "7"]]
    assert book_checksum(bids, asks) == 2123921068
    assert checksum_string([["1", "2"]], [["3", "4"], ["5", "6"], ["7", "8"]]) == "1:2:3:4:5:6:7:8"


def test_checksum_uses_only_the_top_25_levels():
    bids = [[str(1000 - i), "1"] for i in range(30)]
    asks = [[str(2000 + i), "1"] for i in range(30)]
    assert checksum_string(bids, asks).count(":") == 25 * 4 - 1
    assert book_checksum(bids, asks) == book_checksum(bids[:25], asks[:25])


def test_an_update_carries_every_touched_level_even_when_it_ended_where_it_began():
    """A client joins a REST book taken between two messages (`prevSeqId <= seqId < seqId`):
    a level that came and went, or moved and came back, in between must be in the update."""
    from exchanges.simulator.okx.books import OkxBooks

    d = Decimal
    old = {d("100"): d("1"), d("99"): d("2"), d("98"): d("3")}
    new = {d("100"): d("1"), d("99"): d("5"), d("97"): d("4")}
    touched = {d("100"), d("96")}  # 100 moved and came back; 96 came and went
    assert OkxBooks._diff(old, new, touched, reverse=True) == [
        (d("100"), d("1")),
        (d("99"), d("5")),
        (d("98"), d("0")),
        (d("97"), d("4")),
        (d("96"), d("0")),
    ]
    assert OkxBooks._diff(old, dict(old), set(), reverse=True) == []
    assert OkxBooks._diff(old, new, set(), reverse=False) == [
        (d("97"), d("4")),
        (d("98"), d("0")),
        (d("99"), d("5")),
    ]
