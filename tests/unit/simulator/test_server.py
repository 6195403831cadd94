"""The simulator server: faces on free ports, `/_sim` control routes, generator task, thread
runner. A small fake face stands in for the venue faces, so these tests do not depend on them."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import aiohttp
import pytest
from aiohttp import web

from exchanges.simulator import demo
from exchanges.simulator.common.faults import Faults
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.simulator.server import (
    FACES,
    FaceImportError,
    Simulator,
    SimulatorThread,
    available_venues,
    load_face_class,
)
from exchanges.venues.base import Credentials, OrderType, Side, Venue
from tests.support.harness import eventually


class FakeFace:
    """The face contract in its smallest form: one REST route, one WebSocket, a switch."""

    def __init__(self, engine: Engine, faults: Faults, *, options: dict | None = None):
        self.engine = engine
        self.faults = faults
        self.settings = {"mode": "current", **(options or {})}
        self.sockets: set[web.WebSocketResponse] = set()
        self.closed = False
        self.tasks: set[asyncio.Task] = set()
        self.app = web.Application()
        self.app.add_routes([web.get("/api/best", self.best), web.get("/ws", self.ws)])
        faults.on_drop(self._drop)

    def urls(self, host: str, port: int) -> dict[str, str]:
        base = f"{host}:{port}"
        return {
            "rest": f"http://{base}",
            "ws_public": f"ws://{base}/ws",
            "ws_private": f"ws://{base}/ws",
        }

    def configure(self, options: dict) -> dict:
        unknown = set(options) - {"mode"}
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)}")
        self.settings.update(options)
        return dict(self.settings)

    async def close(self) -> None:
        self.closed = True
        for ws in list(self.sockets):
            await ws.close()

    def _drop(self) -> None:
        for ws in list(self.sockets):
            task = asyncio.ensure_future(ws.close(code=1006))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def best(self, request: web.Request) -> web.Response:
        bids, asks = self.engine.book(Venue.OKX, "BTC-USDT", 1)
        return web.json_response({"bid": str(bids[0][0]), "ask": str(asks[0][0])})

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            async for message in ws:
                await ws.send_str(message.data)
        finally:
            self.sockets.discard(ws)
        return ws


FAKE = {Venue.OKX: FakeFace}


@pytest.fixture
async def simulator():
    sim = Simulator(venues=[Venue.OKX], step_interval=0.01, face_classes=FAKE)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def test_start_binds_free_ports_and_reports_urls(simulator):
    port = simulator.ports[Venue.OKX]
    assert port > 0
    assert simulator.urls[Venue.OKX] == {
        "rest": f"http://127.0.0.1:{port}",
        "ws_public": f"ws://127.0.0.1:{port}/ws",
        "ws_private": f"ws://127.0.0.1:{port}/ws",
    }
    demo_key = demo.DEMO_ACCOUNTS[Venue.OKX]
    account = simulator.engine.account(Venue.OKX, demo_key.api_key)
    assert account is not None and account.passphrase == demo_key.passphrase
    assert simulator.credentials == {Venue.OKX: demo_key}
    async with aiohttp.ClientSession() as http:
        async with http.get(simulator.urls[Venue.OKX]["rest"] + "/api/best") as resp:
            body = await resp.json()
    assert D(body["bid"]) < D(body["ask"])


async def test_health_and_fault_routes(simulator):
    rest = simulator.urls[Venue.OKX]["rest"]
    async with aiohttp.ClientSession() as http:
        async with http.get(rest + "/_sim/health") as resp:
            health = await resp.json()
        assert (health["status"], health["venue"], health["generator_running"]) == (
            "ok",
            "okx",
            True,
        )
        assert health["instruments"] == 5

        async with http.post(
            rest + "/_sim/faults", json={"lose_acks": 2, "ack_delay_ms": 50}
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["lose_acks"] == 2
        assert (
            simulator.faults[Venue.OKX].lose_acks,
            simulator.faults[Venue.OKX].ack_delay_ms,
        ) == (2, 50)
        async with http.post(rest + "/_sim/faults", json={"lose_acks": -1}) as resp:
            assert resp.status == 400
            assert "lose_acks" in (await resp.json())["error"]
        async with http.post(rest + "/_sim/faults", data="not json") as resp:
            assert resp.status == 400
        async with http.get(rest + "/_sim/faults") as resp:
            assert (await resp.json())["lose_acks"] == 2


async def test_config_routes_reach_the_face(simulator):
    rest = simulator.urls[Venue.OKX]["rest"]
    async with aiohttp.ClientSession() as http:
        async with http.get(rest + "/_sim/config") as resp:
            assert await resp.json() == {"mode": "current"}
        async with http.post(rest + "/_sim/config", json={"mode": "checksum"}) as resp:
            assert await resp.json() == {"mode": "checksum"}
        async with http.post(rest + "/_sim/config", json={"colour": "red"}) as resp:
            assert resp.status == 400
    assert simulator.faces[Venue.OKX].settings == {"mode": "checksum"}


async def test_drop_route_closes_the_faces_websockets(simulator):
    urls = simulator.urls[Venue.OKX]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(urls["ws_public"]) as ws:
            await ws.send_str("hello")
            assert (await ws.receive(timeout=5)).data == "hello"
            async with http.post(urls["rest"] + "/_sim/drop") as resp:
                assert (await resp.json())["drop_requested"] == 1
            message = await ws.receive(timeout=5)
            assert message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_refuse_connections_closes_everything_but_the_control_routes(simulator):
    rest = simulator.urls[Venue.OKX]["rest"]
    simulator.faults[Venue.OKX].update(refuse_connections=True)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientError):
            async with http.get(rest + "/api/best") as resp:
                await resp.read()
        with pytest.raises(aiohttp.ClientError):
            await http.ws_connect(simulator.urls[Venue.OKX]["ws_public"])
        async with http.post(rest + "/_sim/faults", json={"refuse_connections": False}) as resp:
            assert resp.status == 200
        async with http.get(rest + "/api/best") as resp:
            assert resp.status == 200
    # aiohttp's client retries a request once when the server drops the connection
    assert simulator.faults[Venue.OKX].fired["refuse_connections"] == 4


async def test_step_and_generator_routes(simulator):
    rest = simulator.urls[Venue.OKX]["rest"]
    async with aiohttp.ClientSession() as http:
        async with http.post(rest + "/_sim/generator", json={"running": False}) as resp:
            assert await resp.json() == {"running": False}
        before = simulator.engine.market.time
        await asyncio.sleep(0.05)  # a paused generator stays put for a few intervals
        assert simulator.engine.market.time == before
        async with http.post(rest + "/_sim/step?seconds=0.5") as resp:
            body = await resp.json()
        assert body["steps"] == 50
        assert body["market_time"] == pytest.approx(before + 0.5)
        async with http.post(rest + "/_sim/step?seconds=abc") as resp:
            assert resp.status == 400
        async with http.post(rest + "/_sim/generator", json={"running": "yes"}) as resp:
            assert resp.status == 400
        async with http.post(rest + "/_sim/generator", json={"running": True}) as resp:
            assert await resp.json() == {"running": True}
    await eventually(lambda: simulator.engine.market.time > before + 0.5, timeout=1.0)
    assert simulator.engine.market.time > before + 0.5


async def test_stop_closes_faces_and_frees_the_port():
    sim = Simulator(venues=[Venue.OKX], face_classes=FAKE, step_interval=0.01)
    await sim.start()
    port = sim.ports[Venue.OKX]
    await sim.stop()
    assert sim.faces[Venue.OKX].closed
    again = Simulator(venues=[Venue.OKX], face_classes=FAKE, ports={Venue.OKX: port})
    await again.start()
    try:
        assert again.ports[Venue.OKX] == port
    finally:
        await again.stop()


async def test_given_accounts_start_up_faults_and_face_options():
    creds = Credentials(api_key="k1", secret="s1", passphrase="p1")
    engine = build_engine(seed=3, config=MarketConfig(taker_rate=0.0))
    sim = Simulator(
        engine,
        [Venue.OKX],
        accounts=[(Venue.OKX, creds)],
        face_classes=FAKE,
        faults={Venue.OKX: {"rate_limit_burst": 4}},
        face_options={Venue.OKX: {"mode": "no_snapshot"}},
        run_generator=False,
    )
    await sim.start()
    try:
        assert sim.engine is engine
        assert engine.account(Venue.OKX, "k1").secret == "s1"
        assert engine.account(Venue.OKX, demo.DEMO_ACCOUNTS[Venue.OKX].api_key) is None
        assert sim.faults[Venue.OKX].rate_limit_burst == 4
        assert sim.faces[Venue.OKX].configure({}) == {"mode": "no_snapshot"}
    finally:
        await sim.stop()


def test_simulator_thread_runs_engine_calls_on_its_loop():
    thread = SimulatorThread(venues=[Venue.OKX], face_classes=FAKE, step_interval=0.01)
    urls = thread.start()
    try:
        assert urls[Venue.OKX]["rest"].startswith("http://127.0.0.1:")
        key = thread.credentials[Venue.OKX].api_key
        bids, _ = thread.call(thread.engine.book, Venue.OKX, "BTC-USDT-SWAP", 1)
        order = thread.call(
            thread.engine.place_order,
            Venue.OKX,
            key,
            "BTC-USDT-SWAP",
            side=Side.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("1"),
            price=bids[0][0] - D("100"),
        )
        assert thread.call(
            lambda: [o.order_id for o in thread.engine.open_orders(Venue.OKX, key)]
        ) == [order.order_id]

        async def running_loop_is_the_simulators() -> bool:
            return asyncio.get_running_loop() is thread._loop

        assert thread.call(running_loop_is_the_simulators) is True
        with pytest.raises(ZeroDivisionError):
            thread.call(lambda: 1 / 0)
    finally:
        thread.stop()
    with pytest.raises(OSError):
        import socket

        socket.create_connection(("127.0.0.1", int(urls[Venue.OKX]["rest"].rsplit(":", 1)[1])), 1)


def test_simulator_thread_start_failure_is_raised():
    thread = SimulatorThread(venues=[Venue.OKX], face_classes={Venue.OKX: "no.such.Face"})
    with pytest.raises(ModuleNotFoundError):
        thread.start()


def test_face_paths_name_the_three_venues():
    assert FACES == {
        Venue.DERIBIT: "exchanges.simulator.deribit.face.DeribitFace",
        Venue.OKX: "exchanges.simulator.okx.face.OkxFace",
        Venue.BYBIT: "exchanges.simulator.bybit.face.BybitFace",
    }
    assert load_face_class("exchanges.simulator.common.faults.Faults") is Faults


def test_every_importable_face_starts_under_the_sim_fixture(sim):
    import requests

    assert sim.venues
    for venue in sim.venues:
        urls = sim.urls[venue]
        assert set(urls) >= {"rest", "ws_public", "ws_private"}
        health = requests.get(urls["rest"] + "/_sim/health", timeout=5).json()
        assert (health["status"], health["venue"]) == ("ok", venue.value)
        changed = requests.post(
            urls["rest"] + "/_sim/faults", json={"ack_delay_ms": 5}, timeout=5
        ).json()
        assert changed["ack_delay_ms"] == 5
        assert sim.faults[venue].ack_delay_ms == 5
        config = requests.get(urls["rest"] + "/_sim/config", timeout=5)
        assert config.status_code == 200 and isinstance(config.json(), dict)
        account = sim.call(sim.engine.account, venue, sim.credentials[venue].api_key)
        assert account is not None


async def test_accounts_route_opens_accounts_at_run_time(simulator):
    rest = simulator.urls[Venue.OKX]["rest"]
    async with aiohttp.ClientSession() as http:
        body = {"api_key": "late", "secret": "s", "passphrase": "p", "balances": {"USDT": "250.5"}}
        async with http.post(rest + "/_sim/accounts", json=body) as resp:
            assert await resp.json() == {"api_key": "late", "balances": {"USDT": "250.5"}}
        async with http.post(rest + "/_sim/accounts", json=body) as resp:
            assert resp.status == 409
        async with http.post(rest + "/_sim/accounts", json={"api_key": "x"}) as resp:
            assert resp.status == 400
        bad = {"api_key": "y", "secret": "s", "balances": {"USDT": "lots"}}
        async with http.post(rest + "/_sim/accounts", json=bad) as resp:
            assert resp.status == 400
        async with http.post(rest + "/_sim/accounts", json={"api_key": "z", "secret": "s"}) as resp:
            demo_wallet = (await resp.json())["balances"]
    assert demo_wallet == demo.DEMO_BALANCES[Venue.OKX]
    account = simulator.engine.account(Venue.OKX, "late")
    assert (account.secret, account.passphrase) == ("s", "p")
    assert account.balances["USDT"].available == D("250.5")
    assert simulator.engine.account(Venue.OKX, "y") is None


def test_advance_until_steps_until_the_condition_holds_and_gives_up_past_the_limit():
    sim = Simulator(
        build_engine(seed=2), [Venue.OKX], face_classes=FAKE, run_generator=False, step_interval=0.1
    )

    def printed() -> int:
        return len(sim.engine.recent_trades(Venue.OKX, "BTC-USDT-SWAP", 1000))

    before = printed()
    waited = sim.advance_until(lambda: printed() >= before + 3, limit=60.0, chunk=0.5)
    assert printed() >= before + 3
    assert waited > 0 and waited % 0.5 == 0
    assert sim.advance_until(lambda: True, limit=0.0) == 0.0
    with pytest.raises(TimeoutError):
        sim.advance_until(lambda: False, limit=1.0)


def test_available_venues_names_every_face_and_fails_loudly_on_a_broken_one():
    assert available_venues() == list(FACES)
    broken = {**FACES, Venue.OKX: "exchanges.simulator.okx.face.NoSuchFace"}
    with pytest.raises(FaceImportError, match=r"okx\.face\.NoSuchFace"):
        available_venues(broken)
    with pytest.raises(FaceImportError, match="no_such_module"):
        available_venues({Venue.BYBIT: "exchanges.simulator.no_such_module.Face"})
