"""Runs the protocol faces on their ports, the market generator, and the `/_sim` control routes.

Face contract (what `deribit.face`, `okx.face` and `bybit.face` implement):

- `FaceClass(engine: Engine, faults: Faults, *, options: dict | None = None)`;
- `.app`: an `aiohttp.web.Application` with the venue's real routes (REST and WebSocket on one
  port); this module adds the `/_sim/...` routes and a connection-refusal middleware to it
  before it starts, so the face must not freeze or start it itself;
- `urls(host, port) -> {"rest": ..., "ws_public": ..., "ws_private": ...}` (Bybit's
  `ws_public` is the prefix `.../v5/public` to which a client appends the category);
- `configure(options: dict) -> dict`: apply face-specific run-time switches (e.g. OKX
  `book_mode`) and return the face's current settings (`configure({})` only reads them);
- `async close()`: close every WebSocket the face has open.

Control routes on every face's port (JSON in, JSON out):

| route | does |
| --- | --- |
| `GET /_sim/health` | venue, engine time, generator state |
| `GET /_sim/faults`, `POST /_sim/faults` | read / change `Faults` (body: field changes) |
| `POST /_sim/drop` | `Faults.drop_ws()`: the face closes all its WebSockets now |
| `GET /_sim/config`, `POST /_sim/config` | `face.configure(body)` |
| `POST /_sim/step?seconds=1` | advance the market generator by hand |
| `GET /_sim/generator`, `POST /_sim/generator` | `{"running": false}` pauses the timed generator |
| `POST /_sim/move` | move an asset's price on this venue: `{"asset": "BTC", "pct": "-3"}` |
| `POST /_sim/accounts` | open an account: `{"api_key", "secret", "passphrase"?, "balances"?}` |

While `Faults.refuse_connections` is set, every other request (HTTP or WebSocket upgrade) has its
connection closed without an answer, as a refused/reset connection looks to a client.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import math
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from aiohttp import web

from exchanges.simulator import demo
from exchanges.simulator.common.faults import Faults
from exchanges.simulator.engine.core import Engine
from exchanges.simulator.market.generator import build_engine
from exchanges.venues.base import Credentials, Venue

logger = logging.getLogger(__name__)

T = TypeVar("T")

FACES: dict[Venue, str] = {
    Venue.DERIBIT: "exchanges.simulator.deribit.face.DeribitFace",
    Venue.OKX: "exchanges.simulator.okx.face.OkxFace",
    Venue.BYBIT: "exchanges.simulator.bybit.face.BybitFace",
}

DEFAULT_PORTS: dict[Venue, int] = {Venue.DERIBIT: 8801, Venue.OKX: 8802, Venue.BYBIT: 8803}
MAX_STEP_SECONDS = 1.0


class Face(Protocol):
    app: web.Application

    def urls(self, host: str, port: int) -> dict[str, str]: ...
    def configure(self, options: dict) -> dict: ...
    async def close(self) -> None: ...


def load_face_class(path: str) -> type:
    """Import `package.module.ClassName`."""
    module_name, _, class_name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


class FaceImportError(RuntimeError):
    """A face in `FACES` cannot be imported: a broken simulator, never a venue to skip."""


def available_venues(faces: dict[Venue, str] | None = None) -> list[Venue]:
    """The venues of `faces` (default `FACES`), after importing each face class; a face that
    cannot be imported raises FaceImportError naming it, so no venue is silently left out."""
    faces = FACES if faces is None else faces
    for venue, path in faces.items():
        try:
            load_face_class(path)
        except (ImportError, AttributeError) as exc:
            raise FaceImportError(f"simulator face {path} ({venue}) cannot be imported") from exc
    return list(faces)


class Simulator:
    """One engine, one face per venue on its own port, the generator task and `/_sim` routes."""

    def __init__(
        self,
        engine: Engine | None = None,
        venues: list[Venue] | None = None,
        host: str = "127.0.0.1",
        ports: dict[Venue, int] | None = None,
        seed: int = 1,
        accounts: list[tuple[Venue, Credentials]] | None = None,
        step_interval: float = 0.05,
        face_options: dict[Venue, dict] | None = None,
        *,
        faults: dict[Venue, dict] | None = None,
        face_classes: dict[Venue, type | str] | None = None,
        run_generator: bool = True,
    ):
        self.engine = engine if engine is not None else build_engine(seed=seed)
        self.venues = [Venue(v) for v in (venues if venues is not None else list(FACES))]
        self.host = host
        self.ports_requested = {v: (ports or {}).get(v, 0) for v in self.venues}
        self.seed = seed
        self.accounts = (
            accounts
            if accounts is not None
            else [(v, demo.DEMO_ACCOUNTS[v]) for v in self.venues if v in demo.DEMO_ACCOUNTS]
        )
        self.step_interval = step_interval
        self.face_options = face_options or {}
        self.face_classes: dict[Venue, type | str] = {**FACES, **(face_classes or {})}
        self.faults: dict[Venue, Faults] = {
            venue: Faults(seed=seed + index, **(faults or {}).get(venue, {}))
            for index, venue in enumerate(self.venues)
        }
        self.faces: dict[Venue, Any] = {}
        self.urls: dict[Venue, dict[str, str]] = {}
        self.ports: dict[Venue, int] = {}
        self.generator_running = run_generator
        self._runners: list[web.AppRunner] = []
        self._generator: asyncio.Task | None = None
        self._started = False

    @property
    def credentials(self) -> dict[Venue, Credentials]:
        """The first account opened on each venue (the demo account unless others were given)."""
        first: dict[Venue, Credentials] = {}
        for venue, credentials in self.accounts:
            first.setdefault(venue, credentials)
        return first

    async def start(self) -> dict[Venue, dict[str, str]]:
        """Open accounts, build faces, bind ports, start serving and generating; returns URLs."""
        if self._started:
            return self.urls
        for venue, credentials in self.accounts:
            if self.engine.account(venue, credentials.api_key) is None:
                self.engine.add_account(
                    venue, credentials.api_key, credentials.secret, credentials.passphrase
                )
        try:
            for venue in self.venues:
                await self._start_face(venue)
        except BaseException:
            await self.stop()
            raise
        self._started = True
        self._generator = asyncio.create_task(self._run_generator(), name="sim-generator")
        return self.urls

    async def _start_face(self, venue: Venue) -> None:
        face_class = self.face_classes[venue]
        if isinstance(face_class, str):
            face_class = load_face_class(face_class)
        face = face_class(self.engine, self.faults[venue], options=self.face_options.get(venue))
        self.faces[venue] = face
        app = face.app
        app.middlewares.insert(0, self._refusal_middleware(self.faults[venue]))
        app.add_routes(self._control_routes(venue))
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        self._runners.append(runner)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.ports_requested.get(venue, 0)))
        except OSError:
            sock.close()
            raise
        site = web.SockSite(runner, sock)
        await site.start()
        port = sock.getsockname()[1]
        self.ports[venue] = port
        self.urls[venue] = face.urls(self.host, port)

    async def stop(self) -> None:
        """Stop the generator, close every WebSocket, release the ports."""
        if self._generator is not None:
            self._generator.cancel()
            try:
                await self._generator
            except asyncio.CancelledError:
                pass
            self._generator = None
        for face in self.faces.values():
            try:
                await face.close()
            except Exception:
                logger.exception("closing simulator face %r failed", face)
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        self._started = False

    def advance(self, seconds: float) -> int:
        """Run the generator for `seconds` of simulated time in `step_interval` steps."""
        steps = max(1, math.ceil(seconds / self.step_interval)) if seconds > 0 else 0
        for _ in range(steps):
            self.engine.step(seconds / steps)
        return steps

    def advance_until(
        self, condition: Callable[[], bool], *, limit: float, chunk: float = 0.5
    ) -> float:
        """Run the generator in `chunk`-second pieces until `condition()` holds (checked before
        each piece); returns the simulated seconds that took. A test that needs something the
        market only does by chance (taker flow is a Poisson process) waits for it this way; past
        `limit` simulated seconds it raises TimeoutError."""
        waited = 0.0
        while not condition():
            if waited >= limit:
                raise TimeoutError(f"condition not met after {waited} simulated seconds")
            self.advance(chunk)
            waited += chunk
        return waited

    async def _run_generator(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.step_interval)
            now = loop.time()
            dt = min(now - last, MAX_STEP_SECONDS)
            last = now
            if not self.generator_running:
                continue
            try:
                self.engine.step(dt)
            except Exception:
                logger.exception("simulator generator step failed")

    # ----------------------------------------------------------------- control routes

    @staticmethod
    def _refusal_middleware(faults: Faults) -> Callable:
        @web.middleware
        async def refuse(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            if faults.refuse_connections and not request.path.startswith("/_sim/"):
                faults.fired["refuse_connections"] = faults.fired.get("refuse_connections", 0) + 1
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=503)  # never reaches the client: the socket is gone
            return await handler(request)

        return refuse

    def _control_routes(self, venue: Venue) -> list[web.RouteDef]:
        faults = self.faults[venue]
        face = self.faces[venue]

        async def health(request: web.Request) -> web.Response:
            return web.json_response(
                {
                    "status": "ok",
                    "venue": venue.value,
                    "time_ns": self.engine.clock_ns(),
                    "market_time": self.engine.market.time,
                    "generator_running": self.generator_running,
                    "instruments": len(self.engine.instruments_of(venue)),
                }
            )

        async def get_faults(request: web.Request) -> web.Response:
            return web.json_response(faults.as_dict())

        async def post_faults(request: web.Request) -> web.Response:
            body = await _json_body(request)
            try:
                return web.json_response(faults.update(**body))
            except ValueError as exc:
                return web.json_response({"error": str(exc)}, status=400)

        async def drop(request: web.Request) -> web.Response:
            faults.drop_ws()
            return web.json_response({"dropped": True, "drop_requested": faults.drop_requested})

        async def get_config(request: web.Request) -> web.Response:
            return web.json_response(face.configure({}))

        async def post_config(request: web.Request) -> web.Response:
            body = await _json_body(request)
            try:
                return web.json_response(face.configure(body))
            except (ValueError, KeyError) as exc:
                return web.json_response({"error": str(exc)}, status=400)

        async def step(request: web.Request) -> web.Response:
            try:
                seconds = float(request.query.get("seconds", "1"))
            except ValueError:
                return web.json_response({"error": "seconds must be a number"}, status=400)
            if not 0 <= seconds <= 3600:
                return web.json_response({"error": "seconds must be within [0, 3600]"}, status=400)
            steps = self.advance(seconds)
            return web.json_response({"steps": steps, "market_time": self.engine.market.time})

        async def move(request: web.Request) -> web.Response:
            body = await _json_body(request)
            market = self.engine.market
            asset = body.get("asset")
            if (asset, venue) not in market.venue_dev:
                return web.json_response(
                    {"error": f"{venue} prices no asset {asset!r}"}, status=400
                )
            try:
                pct = Decimal(str(body.get("pct")))
            except ArithmeticError:
                return web.json_response({"error": "pct must be a number"}, status=400)
            if not pct.is_finite() or not -50 <= pct <= 50:
                return web.json_response({"error": "pct must be within [-50, 50]"}, status=400)
            market.move(asset, venue, pct)
            self.engine.step(0)  # reprice, requote and fire triggers now
            return web.json_response({"asset": asset, "mid": market.venue_mid(asset, venue)})

        async def get_generator(request: web.Request) -> web.Response:
            return web.json_response({"running": self.generator_running})

        async def post_generator(request: web.Request) -> web.Response:
            body = await _json_body(request)
            running = body.get("running")
            if not isinstance(running, bool):
                return web.json_response({"error": "running must be true or false"}, status=400)
            self.generator_running = running
            return web.json_response({"running": self.generator_running})

        async def add_account(request: web.Request) -> web.Response:
            body = await _json_body(request)
            api_key, secret = body.get("api_key"), body.get("secret")
            if not isinstance(api_key, str) or not api_key or not isinstance(secret, str):
                return web.json_response({"error": "api_key and secret are required"}, status=400)
            if self.engine.account(venue, api_key) is not None:
                return web.json_response({"error": f"account {api_key} exists"}, status=409)
            balances = body.get("balances")
            try:
                wallet = (
                    None
                    if balances is None
                    else {str(c): Decimal(str(a)) for c, a in dict(balances).items()}
                )
            except (ArithmeticError, TypeError, ValueError) as exc:
                return web.json_response({"error": f"bad balances: {exc}"}, status=400)
            passphrase = str(body.get("passphrase", ""))
            account = self.engine.add_account(venue, api_key, secret, passphrase, wallet)
            self.accounts.append((venue, Credentials(api_key, secret, passphrase)))
            return web.json_response(
                {
                    "api_key": api_key,
                    "balances": {b.currency: str(b.total) for b in account.balances.values()},
                }
            )

        return [
            web.get("/_sim/health", health),
            web.post("/_sim/accounts", add_account),
            web.get("/_sim/faults", get_faults),
            web.post("/_sim/faults", post_faults),
            web.post("/_sim/drop", drop),
            web.get("/_sim/config", get_config),
            web.post("/_sim/config", post_config),
            web.post("/_sim/step", step),
            web.post("/_sim/move", move),
            web.get("/_sim/generator", get_generator),
            web.post("/_sim/generator", post_generator),
        ]


async def _json_body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=f'{{"error": "body is not JSON: {exc}"}}', content_type="application/json"
        ) from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body


def _settle_future(result: Future, task: asyncio.Task) -> None:
    if task.cancelled():
        result.set_exception(asyncio.CancelledError())
    elif task.exception() is not None:
        result.set_exception(task.exception())
    else:
        result.set_result(task.result())


class SimulatorThread:
    """A `Simulator` running in a background thread with its own event loop.

    For synchronous code (tests, the gateway supervisor): `start()` blocks until every face
    listens and returns the URLs; `call(fn, *args)` runs `fn` on the simulator's loop (the engine
    is single-threaded) and returns its result; `stop()` shuts everything down.
    """

    def __init__(self, **simulator_kwargs: Any):
        self._kwargs = simulator_kwargs
        self.simulator: Simulator | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: Future = Future()
        self._stopped = threading.Event()

    @property
    def engine(self) -> Engine:
        return self._require().engine

    @property
    def urls(self) -> dict[Venue, dict[str, str]]:
        return self._require().urls

    @property
    def faults(self) -> dict[Venue, Faults]:
        return self._require().faults

    @property
    def faces(self) -> dict[Venue, Any]:
        return self._require().faces

    @property
    def ports(self) -> dict[Venue, int]:
        return self._require().ports

    @property
    def venues(self) -> list[Venue]:
        return self._require().venues

    @property
    def credentials(self) -> dict[Venue, Credentials]:
        return self._require().credentials

    def _require(self) -> Simulator:
        if self.simulator is None:
            raise RuntimeError("simulator thread not started")
        return self.simulator

    def start(self, timeout: float = 15.0) -> dict[Venue, dict[str, str]]:
        if self._thread is not None:
            return self._ready.result(timeout)
        self._thread = threading.Thread(target=self._run, name="simulator", daemon=True)
        self._thread.start()
        try:
            return self._ready.result(timeout)
        except BaseException:
            self.stop()
            raise

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            self.simulator = Simulator(**self._kwargs)
            urls = loop.run_until_complete(self.simulator.start())
        except BaseException as exc:
            # Closed and stopped before the starter hears of the failure: its stop() must find
            # nothing left to stop (it raced the close and called into a closed loop).
            loop.close()
            self._stopped.set()
            self._ready.set_exception(exc)
            return
        self._ready.set_result(urls)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self.simulator.stop())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            self._stopped.set()

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` on the simulator loop; coroutines are awaited there."""
        if self._loop is None:
            raise RuntimeError("simulator thread not started")
        result: Future = Future()

        def run() -> None:
            try:
                value = fn(*args, **kwargs)
            except BaseException as exc:
                result.set_exception(exc)
                return
            if asyncio.iscoroutine(value):
                task = asyncio.ensure_future(value)
                task.add_done_callback(lambda t: _settle_future(result, t))
            else:
                result.set_result(value)

        self._loop.call_soon_threadsafe(run)
        return result.result(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        if self._thread is None:
            return
        if self._loop is not None and not self._stopped.is_set():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._stopped.wait(timeout)
        self._thread.join(timeout)
        self._thread = None
