"""Bybit WebSockets: `/v5/public/{category}`, `/v5/private` and `/v5/trade` connections, ping,
subscribe/unsubscribe, and the trade stream's order operations ("WebSocket Connect",
"WebSocket Trade").
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from exchanges.simulator.bybit.constants import BOOK_DEPTHS, SPOT_MAX_ARGS, TRADE_OPS, VENUE
from exchanges.simulator.bybit.errors import BybitError
from exchanges.simulator.bybit.wire import BybitInstrument
from exchanges.simulator.common.faults import answer_survives
from exchanges.simulator.common.ws import NORMAL_CLOSE, Connection


@dataclass(eq=False)
class BybitConnection(Connection):
    """One Bybit WebSocket connection: its stream, idle limit, login and topics."""

    private: bool = False
    category: str = ""
    idle_timeout: float = 600.0
    api_key: str | None = None
    topics: set[str] = field(default_factory=set)


def _max_active_time(text: str) -> float | None:
    """Private `max_active_time` (30s..600s, or minutes like `1m`) in seconds; None if absent."""
    if not text:
        return None
    try:
        seconds = (
            int(text[:-1]) * (60 if text.endswith("m") else 1) if text[-1] in "sm" else int(text)
        )
    except ValueError:
        return None
    return float(min(max(seconds, 30), 600))


class BybitWs:
    """Serves the Bybit WebSocket connections."""

    def _new_conn_id(self) -> str:
        return f"{self._conn_prefix}-{next(self._conn_ids):03x}"

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _public_ws(self, category: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse(autoping=True)
            await ws.prepare(request)
            conn = BybitConnection(
                ws=ws,
                transport=request.transport,
                faults=self.faults,
                conn_id=self._new_conn_id(),
                private=False,
                category=category,
                idle_timeout=float(self.options["idle_timeout"]),
            )
            await self._serve(conn, self._on_public_message)
            return ws

        return handler

    async def _private_ws(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_private(request, self._on_private_message)

    async def _serve_private(
        self,
        request: web.Request,
        on_message: Callable[[BybitConnection, dict], Awaitable[None] | None],
    ) -> web.StreamResponse:
        """Open an authenticated-stream connection (`/v5/private`, `/v5/trade`), whose idle limit
        `?max_active_time=` may shorten, and serve it with `on_message`."""
        idle = float(self.options["idle_timeout"])
        active = _max_active_time(request.query.get("max_active_time", ""))
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = BybitConnection(
            ws=ws,
            transport=request.transport,
            faults=self.faults,
            conn_id=self._new_conn_id(),
            private=True,
            idle_timeout=min(idle, active) if active else idle,
        )
        await self._serve(conn, on_message)
        return ws

    async def _serve(
        self,
        conn: BybitConnection,
        on_message: Callable[[BybitConnection, dict], Awaitable[None] | None],
    ) -> None:
        """Read a connection until it closes or idles out; a sender task writes its queue."""
        self._loop = asyncio.get_running_loop()
        if self._housekeeping_task is None:
            self._housekeeping_task = asyncio.create_task(self._housekeeping())
        self._conns.add(conn)
        conn.start(f"bybit-ws-writer-{conn.conn_id}")
        idle = asyncio.create_task(conn.watch_idle(lambda: conn.idle_timeout, NORMAL_CLOSE))
        ws = conn.ws
        try:
            while not ws.closed and not conn.closed:
                msg = await ws.receive()
                if msg.type is WSMsgType.TEXT:
                    try:
                        request = orjson.loads(msg.data)
                    except orjson.JSONDecodeError:
                        request = None
                    if not isinstance(request, dict):
                        self._reply(
                            conn,
                            {
                                "success": False,
                                "ret_msg": "Invalid request",
                                "conn_id": conn.conn_id,
                                "op": "",
                            },
                        )
                        continue
                    pending = on_message(conn, request)
                    if pending is not None:
                        await pending
                elif msg.type in (
                    WSMsgType.CLOSE,
                    WSMsgType.CLOSING,
                    WSMsgType.CLOSED,
                    WSMsgType.ERROR,
                ):
                    break
        finally:
            idle.cancel()
            await conn.stop_writer()
            await self._close_conn(conn)

    async def _close_conn(self, conn: BybitConnection, *, dropped: bool = False) -> None:
        """Forget a connection and close it; `dropped` aborts it as a network failure does."""
        if conn not in self._conns:
            return
        self._conns.discard(conn)
        had_dcp = any(t.startswith("dcp") for t in conn.topics)
        for topic in list(conn.topics):
            self._unsubscribe(conn, topic)
        if conn.api_key is not None:
            conns = self._private.get(conn.api_key)
            if conns is not None:
                conns.discard(conn)
            if had_dcp:
                self._maybe_arm_dcp(conn.api_key)
        if dropped:
            conn.drop()
        else:
            await conn.close(NORMAL_CLOSE)

    def _drop_all(self) -> None:
        """Faults.drop_ws(): close every WebSocket of the face now."""
        for conn in list(self._conns):
            self._spawn(self._close_conn(conn, dropped=True))

    def _reply(self, conn: BybitConnection, message: dict) -> None:
        conn.send(orjson.dumps(message))

    def _on_public_message(self, conn: BybitConnection, request: dict) -> None:
        op = request.get("op")
        req_id = request.get("req_id")
        if op == "ping":
            conn.touch()
            self._reply(conn, self._public_pong(conn, req_id))
            return
        if op not in ("subscribe", "unsubscribe"):
            self._ack(conn, op or "", req_id, f"Invalid op: {op}", success=False)
            return
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._ack(conn, op, req_id, "args must be a non-empty list of topics", success=False)
            return
        if conn.category == "spot" and len(args) > SPOT_MAX_ARGS:
            self._ack(conn, op, req_id, f"args size >{SPOT_MAX_ARGS}", success=False)
            return
        if op == "unsubscribe":
            for topic in args:
                self._unsubscribe(conn, topic)
            self._ack(conn, op, req_id, "")
            return
        for topic in args:
            if self._parse_public_topic(conn.category, topic) is None:
                self._ack(conn, op, req_id, f"Invalid topic: {topic}", success=False)
                return
            if topic in conn.topics:
                self._ack(
                    conn, op, req_id, f"error:already subscribed,topic:{topic}", success=False
                )
                return
        self._ack(conn, op, req_id, "")
        for topic in args:
            self._subscribe_public(conn, topic)

    def _public_pong(self, conn: BybitConnection, req_id: Any) -> dict[str, Any]:
        """The pong of a public stream; its shape differs per category (docs "Connect")."""
        if conn.category == "option":
            return {"args": [str(self._now_ms())], "op": "pong"}
        reply: dict[str, Any] = {"success": True, "ret_msg": "pong", "conn_id": conn.conn_id}
        if conn.category != "spot" or req_id is not None:
            reply["req_id"] = req_id if req_id is not None else ""
        reply["op"] = "ping"
        return reply

    def _ack(
        self, conn: BybitConnection, op: str, req_id: Any, message: str, *, success: bool = True
    ) -> None:
        """A (un)subscribe answer: spot says `subscribe`, linear/inverse always echo `req_id`."""
        if success and conn.category == "spot":
            message = op
        reply: dict[str, Any] = {"success": success, "ret_msg": message, "conn_id": conn.conn_id}
        if req_id is not None or (not conn.private and conn.category in ("linear", "inverse")):
            reply["req_id"] = req_id if req_id is not None else ""
        reply["op"] = op
        self._reply(conn, reply)

    def _parse_public_topic(
        self, category: str, topic: str
    ) -> tuple[str, BybitInstrument, int] | None:
        parts = topic.split(".")
        if len(parts) == 3 and parts[0] == "orderbook" and parts[1].isdigit():
            depth = int(parts[1])
            inst = self._instruments.get((category, parts[2]))
            if inst is None or depth not in BOOK_DEPTHS[category]:
                return None
            return "orderbook", inst, depth
        if len(parts) == 2 and parts[0] in ("publicTrade", "tickers"):
            inst = self._instruments.get((category, parts[1]))
            return None if inst is None else (parts[0], inst, 0)
        return None

    def _subscribe_public(self, conn: BybitConnection, topic: str) -> None:
        parsed = self._parse_public_topic(conn.category, topic)
        if parsed is None:
            return
        kind, inst, depth = parsed
        conn.topics.add(topic)
        if kind == "orderbook":
            stream = self._book_stream(inst, depth)
            if not stream.subscribers:
                self._prime(stream)
            stream.subscribers.add(conn)
            if not self.faults.freeze_books:
                conn.send(self._book_message(stream, snapshot=True))
            return
        subscribers = self._topic_subs.setdefault((conn.category, topic), set())
        shared = bool(subscribers)
        subscribers.add(conn)
        if kind == "tickers":
            base = self._ticker_sent.get(inst.engine_symbol)
            if base is None or not shared or inst.category == "spot":
                ticker = self.engine.ticker(VENUE, inst.engine_symbol)
                base = self._ticker_fields(inst, ticker, rest=False)
                self._ticker_sent[inst.engine_symbol] = base
            conn.send(self._ticker_message(inst, topic, "snapshot", base))

    def _unsubscribe(self, conn: BybitConnection, topic: str) -> None:
        if topic not in conn.topics:
            return
        conn.topics.discard(topic)
        if conn.private:
            return
        parsed = self._parse_public_topic(conn.category, topic)
        if parsed is None:
            return
        kind, inst, depth = parsed
        if kind == "orderbook":
            stream = self._books.get((inst.engine_symbol, depth))
            if stream is not None:
                stream.subscribers.discard(conn)
                if not stream.subscribers:
                    stream.primed = False
            return
        subs = self._topic_subs.get((conn.category, topic))
        if subs is not None:
            subs.discard(conn)

    async def _trade_ws(self, request: web.Request) -> web.StreamResponse:
        """`/v5/trade`: order entry over WebSocket (docs "WebSocket Trade Guideline")."""
        return await self._serve_private(request, self._on_trade_message)

    def _on_trade_message(self, conn: BybitConnection, request: dict) -> Awaitable[None] | None:
        op = request.get("op")
        if op in ("ping", "auth"):
            self._on_private_message(conn, request)
            return None
        if op in TRADE_OPS:
            return self._trade_op(conn, request)
        self._trade_reply(conn, request, 10404, "op type is not found", {})
        return None

    def _trade_reply(
        self, conn: BybitConnection, request: dict, code: int, message: str, data: dict
    ) -> None:
        """An order-entry answer (fixture ws_trade_order_create_response.json)."""
        self._reply(
            conn,
            {
                "op": request.get("op", ""),
                "retCode": code,
                "retMsg": message,
                "connId": conn.conn_id,
                "reqId": request.get("reqId", ""),
                "data": data,
            },
        )

    async def _trade_op(self, conn: BybitConnection, request: dict) -> None:
        """order.create / order.amend / order.cancel with the REST handlers, limits and faults."""
        account = None if conn.api_key is None else self.engine.account(VENUE, conn.api_key)
        args = request.get("args")
        try:
            if account is None:
                raise BybitError(10007, "User authentication failed.")
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
                raise BybitError(10001, "params error: args must hold one order")
            self._check_trade_header(request.get("header"))
            params = {
                k: (Decimal(str(v)) if isinstance(v, float) else v) for k, v in args[0].items()
            }
            path, handler = TRADE_OPS[request["op"]]
            self._rate_limit(account.api_key, path, str(params.get("category", "")))
            result = await getattr(self, handler)(params, account, None)
        except BybitError as exc:
            self._trade_reply(conn, request, exc.code, exc.message, {})
            return
        if request["op"] == "order.create" and not await answer_survives(self.faults):
            await self._close_conn(conn, dropped=True)
            return
        self._trade_reply(conn, request, 0, "OK", result)
