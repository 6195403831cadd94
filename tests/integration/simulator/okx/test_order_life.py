"""A full order life on the simulator's OKX face over real sockets, with a client written from
the OKX docs (not the gateway's adapter): place, partial fill, amend, cancel, the private pushes
OKX sends for each step, and the public book stream whose `seqId` chain (and, in the older book
mode, CRC32 checksum) is verified on the receiving side."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import pytest

from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.venues.base import Credentials, Venue
from tests.support.okx import (
    LocalBook,
    OkxRest,
    book_pushes,
    drain,
    login_request,
    receive_json,
    start_okx,
)

OKX = Venue.OKX
INST = "BTC-USDT-SWAP"
TICK = Decimal("0.1")
TIMEOUT = aiohttp.ClientTimeout(total=5)
COUNTER = Credentials("counter-party-key", "counter-party-secret", "counter-pass")


def _channel(messages, channel):
    return [
        m
        for m in messages
        if isinstance(m, dict) and m.get("arg", {}).get("channel") == channel and "data" in m
    ]


def _orders(messages, cl_ord_id):
    return [
        m["data"][0] for m in _channel(messages, "orders") if m["data"][0]["clOrdId"] == cl_ord_id
    ]


class Session:
    """Both WebSockets and REST of one test, with everything received kept in order."""

    def __init__(self, simulator, session):
        self.simulator = simulator
        self.session = session
        self.rest = OkxRest(session, simulator.urls[OKX]["rest"], simulator.credentials[OKX])
        self.public_seen: list = []
        self.private_seen: list = []

    async def open(self):
        urls = self.simulator.urls[OKX]
        self.public = await self.session.ws_connect(urls["ws_public"])
        await self.public.send_json(
            {
                "op": "subscribe",
                "args": [
                    {"channel": "books", "instId": INST},
                    {"channel": "trades", "instId": INST},
                ],
            }
        )
        self.private = await self.session.ws_connect(urls["ws_private"])
        await self.private.send_json(login_request(self.simulator.credentials[OKX]))
        login = await receive_json(self.private)
        assert (login["event"], login["code"]) == ("login", "0")
        args = [
            {"channel": "orders", "instType": "SWAP"},
            {"channel": "positions", "instType": "ANY"},
            {"channel": "account", "ccy": "USDT"},
        ]
        await self.private.send_json({"op": "subscribe", "args": args})
        await self.pump()
        acks = [m["arg"] for m in self.private_seen if m.get("event") == "subscribe"]
        assert acks == args

    async def pump(self, quiet: float = 0.3):
        self.public_seen += await drain(self.public, quiet=quiet)
        self.private_seen += await drain(self.private, quiet=0.05)

    async def close(self):
        await self.public.close()
        await self.private.close()

    def verify_book(self, expect_checksums: bool) -> LocalBook:
        book = LocalBook()
        pushes = book_pushes(self.public_seen, "books")
        assert pushes[0][0] == "snapshot"
        for action, item in pushes:
            book.apply(action, item)
        if expect_checksums:
            assert book.checksums_verified == book.messages
        bids, asks = self.simulator.engine.book(OKX, INST)
        assert book.as_decimals() == (list(bids), list(asks))
        return book


async def _place(s: Session, px: Decimal, size: str, cl: str):
    status, body = await s.rest.post(
        "/api/v5/trade/order",
        {
            "instId": INST,
            "tdMode": "cross",
            "side": "buy",
            "ordType": "limit",
            "px": f"{px:f}",
            "sz": size,
            "clOrdId": cl,
        },
    )
    assert (status, body["code"], body["data"][0]["sCode"]) == (200, "0", "0")
    return body["data"][0]["ordId"]


async def _amend_and_cancel(s: Session, ord_id: str, cl: str, new_px: Decimal, filled: str):
    status, amended = await s.rest.post(
        "/api/v5/trade/amend-order",
        {
            "instId": INST,
            "clOrdId": cl,
            "newPx": f"{new_px:f}",
            "reqId": "amend1",
        },
    )
    assert (amended["code"], amended["data"][0]["ordId"], amended["data"][0]["reqId"]) == (
        "0",
        ord_id,
        "amend1",
    ), amended["data"][0]
    await s.pump()
    last = _orders(s.private_seen, cl)[-1]
    assert (last["px"], last["state"], last["accFillSz"]) == (
        f"{new_px:f}",
        "partially_filled",
        filled,
    )
    status, one = await s.rest.get(f"/api/v5/trade/order?instId={INST}&ordId={ord_id}")
    assert (one["data"][0]["px"], one["data"][0]["state"]) == (f"{new_px:f}", "partially_filled")
    status, canceled = await s.rest.post(
        "/api/v5/trade/cancel-order", {"instId": INST, "ordId": ord_id}
    )
    assert (canceled["code"], canceled["data"][0]["sCode"], canceled["data"][0]["clOrdId"]) == (
        "0",
        "0",
        cl,
    )
    await s.pump()
    last = _orders(s.private_seen, cl)[-1]
    assert (last["state"], last["cancelSource"], last["accFillSz"]) == ("canceled", "1", filled)
    status, pending = await s.rest.get(f"/api/v5/trade/orders-pending?instId={INST}")
    assert status == 200 and ord_id not in [o["ordId"] for o in pending["data"]]


@pytest.mark.parametrize("mode", ["current", "checksum"])
async def test_order_life_against_a_crafted_counter_order(mode):
    simulator = await start_okx({"book_mode": mode}, accounts=None)
    simulator.engine.add_account(OKX, COUNTER.api_key, COUNTER.secret, COUNTER.passphrase)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            s = Session(simulator, session)
            await s.open()
            best_bid = simulator.engine.book(OKX, INST, 1)[0][0][0]
            px = best_bid + TICK
            ord_id = await _place(s, px, "5", "life1")
            await s.pump()
            live = _orders(s.private_seen, "life1")
            assert [(o["state"], o["px"], o["sz"], o["accFillSz"]) for o in live] == [
                ("live", f"{px:f}", "5", "0")
            ]
            book = s.verify_book(mode == "checksum")
            assert book.bids[px][1] == "5"  # our order is the new best bid in the stream

            counter = OkxRest(session, simulator.urls[OKX]["rest"], COUNTER)
            status, sold = await counter.post(
                "/api/v5/trade/order",
                {
                    "instId": INST,
                    "tdMode": "cross",
                    "side": "sell",
                    "ordType": "limit",
                    "px": f"{px:f}",
                    "sz": "2",
                    "clOrdId": "counter1",
                },
            )
            assert sold["code"] == "0"
            await s.pump()
            fills = [o for o in _orders(s.private_seen, "life1") if o["fillSz"] != "0"]
            assert [
                (o["state"], o["fillSz"], o["fillPx"], o["accFillSz"], o["execType"]) for o in fills
            ] == [
                ("partially_filled", "2", f"{px:f}", "2", "M"),
            ]
            assert _orders(s.private_seen, "counter1") == []  # another key's order stays private
            trades = [m["data"][0] for m in _channel(s.public_seen, "trades")]
            assert [(t["tradeId"], t["px"], t["sz"], t["side"]) for t in trades][-1] == (
                fills[0]["tradeId"],
                f"{px:f}",
                "2",
                "sell",
            )
            positions = [m["data"][0] for m in _channel(s.private_seen, "positions")]
            assert (positions[-1]["instId"], positions[-1]["pos"], positions[-1]["avgPx"]) == (
                INST,
                "2",
                f"{px:f}",
            )
            assert _channel(s.private_seen, "account")[-1]["data"][0]["details"][0]["ccy"] == "USDT"
            book = s.verify_book(mode == "checksum")
            assert book.bids[px][1] == "3"

            await _amend_and_cancel(s, ord_id, "life1", px - 20 * TICK, "2")
            status, fills_rest = await s.rest.get(
                f"/api/v5/trade/fills?instId={INST}&ordId={ord_id}"
            )
            assert status == 200
            assert [(f["tradeId"], f["fillSz"], f["execType"]) for f in fills_rest["data"]] == [
                (fills[0]["tradeId"], "2", "M"),
            ]
            book = s.verify_book(mode == "checksum")
            assert px not in book.bids and px - 20 * TICK not in book.bids
            await s.close()
    finally:
        await simulator.stop()


async def test_order_life_filled_by_generated_flow():
    # A still market with busy takers: the resting bid is reached by taker flow rather than
    # swept by the makers' requotes (no venue noise or perpetual premium noise moves the
    # quotes through it; the asset's own walk is slow).
    engine = build_engine(
        seed=1,
        config=MarketConfig(
            volatility=0.02, venue_noise_bps=0.0, perp_premium_std=0.0, taker_rate=10.0
        ),
    )
    simulator = await start_okx({"book_mode": "checksum"}, engine=engine)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            s = Session(simulator, session)
            await s.open()
            best_bid = simulator.engine.book(OKX, INST, 1)[0][0][0]
            px = best_bid + TICK
            ord_id = await _place(s, px, "100", "gen1")
            filled = []
            for _ in range(100):
                simulator.advance(0.1)
                await s.pump(quiet=0.12)
                filled = [o for o in _orders(s.private_seen, "gen1") if o["fillSz"] != "0"]
                if filled:
                    break
            assert filled, "no taker reached the order"
            first = filled[0]
            assert first["state"] == "partially_filled" and first["execType"] == "M"
            assert Decimal(first["accFillSz"]) == Decimal(first["fillSz"]) < 100
            current = _orders(s.private_seen, "gen1")[-1]
            await _amend_and_cancel(s, ord_id, "gen1", px - 200 * TICK, current["accFillSz"])
            s.verify_book(expect_checksums=True)
            await s.close()
    finally:
        await simulator.stop()
