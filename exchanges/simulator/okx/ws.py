"""OKX WebSockets `/ws/v5/public` and `/ws/v5/private`: the connection, text `ping`, events and
errors, subscriptions, and the order operations of the private socket ("WebSocket").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from exchanges.simulator.common.faults import answer_survives
from exchanges.simulator.common.ws import Connection
from exchanges.simulator.okx.constants import (
    BOOK_CHANNELS,
    CL_ORD_ID,
    MAX_QUEUED_MESSAGES,
    PRIVATE_CHANNELS,
    PUBLIC_CHANNELS,
    VENUE,
    WS_TRADE_OPS,
)
from exchanges.simulator.okx.errors import OkxError
from exchanges.simulator.okx.wire import micros


@dataclass(eq=False)
class OkxConnection(Connection):
    """One OKX WebSocket connection: which socket it is, its login and subscriptions."""

    private: bool = False
    api_key: str | None = None
    subs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)


class OkxWs:
    """Serves the OKX WebSocket connections."""

    async def _ws_public(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request, private=False)

    async def _ws_private(self, request: web.Request) -> web.StreamResponse:
        return await self._serve_ws(request, private=True)

    async def _serve_ws(self, request: web.Request, *, private: bool) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=64 * 1024)
        await ws.prepare(request)
        conn = OkxConnection(
            ws=ws,
            transport=request.transport,
            faults=self.faults,
            conn_id=f"{next(self._conn_ids):08x}",
            max_queue=MAX_QUEUED_MESSAGES,
            overflow=(4005, "Buffer is full, cannot write data"),
            private=private,
        )
        self._conns.add(conn)
        conn.start(f"okx-ws-writer-{conn.conn_id}")
        idle = asyncio.create_task(
            conn.watch_idle(
                lambda: self.options["ws_idle_timeout_s"], 4004, "No data received in 30s"
            ),
            name=f"okx-ws-idle-{conn.conn_id}",
        )
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._on_text(conn, message.data)
                elif message.type is WSMsgType.ERROR:
                    break
        finally:
            self._forget(conn)
            idle.cancel()
            await conn.stop_writer()
        return ws

    def _forget(self, conn: OkxConnection) -> None:
        conn.closed = True
        self._conns.discard(conn)
        if conn.api_key is not None:
            peers = self._private.get(conn.api_key)
            if peers is not None:
                peers.discard(conn)
                if not peers:
                    del self._private[conn.api_key]
        for channel, key in list(conn.subs):
            self._unsubscribe_topic(conn, channel, key)
        conn.subs.clear()

    def _on_drop_requested(self) -> None:
        if self._loop is None or self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._drop_all)

    def _drop_all(self) -> None:
        for conn in list(self._conns):
            conn.drop()

    def _event(self, conn: OkxConnection, payload: dict[str, Any], request_id: str | None) -> None:
        if request_id:
            payload = {"id": request_id, **payload}
        conn.send(orjson.dumps(payload))

    def _error(
        self, conn: OkxConnection, code: str, msg: str, request_id: str | None = None
    ) -> None:
        self._event(
            conn, {"event": "error", "code": code, "msg": msg, "connId": conn.conn_id}, request_id
        )

    def _on_text(self, conn: OkxConnection, text: str) -> None:
        if text == "ping":
            conn.send("pong")
            return
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            self._error(conn, "60012", f"Invalid request: {text}")
            return
        if not isinstance(request, dict):
            self._error(conn, "60012", f"Invalid request: {text}")
            return
        op = request.get("op")
        request_id = request.get("id") if isinstance(request.get("id"), str) else None
        args = request.get("args")
        if op in WS_TRADE_OPS and conn.private:
            self._ws_trade(conn, request)
            return
        if op not in ("login", "subscribe", "unsubscribe"):
            self._error(conn, "60019", f"Invalid op: {op}", request_id)
            return
        if not isinstance(args, list) or not args or not all(isinstance(a, dict) for a in args):
            self._error(conn, "60012", f"Invalid request: {text}", request_id)
            return
        if op == "login":
            self._login(conn, args[0], request_id)
            return
        for arg in args:
            if op == "subscribe":
                self._subscribe(conn, arg, request_id)
            else:
                self._unsubscribe(conn, arg, request_id)

    def _ws_trade(self, conn: OkxConnection, request: dict[str, Any]) -> None:
        """An order operation over the private WebSocket; answered as
        `{"id", "op", "code", "msg", "data": [item], "inTime", "outTime"}` ("WS / Place order")."""
        op = request["op"]
        request_id = request.get("id")
        if not isinstance(request_id, str) or not CL_ORD_ID.match(request_id):
            self._error(conn, "60013", "Invalid args")
            return
        if conn.api_key is None:
            self._error(conn, "60011", "Please log in", request_id)
            return
        args = request.get("args")
        if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
            self._error(conn, "60013", "Invalid args", request_id)
            return
        account = self.engine.account(VENUE, conn.api_key)
        if account is None:
            self._error(conn, "60011", "Please log in", request_id)
            return
        params = args[0]
        answer: dict[str, Any] = {"id": request_id, "op": op}
        try:
            self._limit(WS_TRADE_OPS[op], account.api_key, str(params.get("instId", "")))
            if op == "order":
                item = self._place(account, params)
            elif op == "amend-order":
                item = self._amend(account, params)
            else:
                item = self._cancel_one(account, params)
        except OkxError as error:
            answer.update(
                code=error.code, msg=error.msg, data=[], inTime=micros(), outTime=micros()
            )
            conn.send(orjson.dumps(answer))
            return
        ok = item["sCode"] == "0"
        answer.update(
            code="0" if ok else "1",
            msg="" if ok else "Operation failed.",
            data=[item],
            inTime=micros(),
            outTime=micros(),
        )
        payload = orjson.dumps(answer)
        if not ok or op != "order":
            conn.send(payload)
            return
        task = asyncio.ensure_future(self._ws_ack(conn, payload))
        self._tasks.append(task)
        task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Future) -> None:
        if task in self._tasks:
            self._tasks.remove(task)

    async def _ws_ack(self, conn: OkxConnection, payload: bytes) -> None:
        """Send a WebSocket order acknowledgement, delayed or lost per the faults."""
        if await answer_survives(self.faults):
            conn.send(payload)
        else:
            conn.drop()

    @staticmethod
    def _sub_key(channel: str, arg: dict[str, Any]) -> str:
        return "|".join(str(arg.get(k, "")) for k in ("instId", "instType", "instFamily", "ccy"))

    def _bad_channel(
        self, conn: OkxConnection, arg: dict[str, Any], request_id: str | None
    ) -> None:
        described = ",".join(f"{k}:{v}" for k, v in arg.items())
        self._error(
            conn,
            "60018",
            f"Wrong URL or {described} doesn't exist. Please use the correct URL, channel and "
            "parameters referring to API document.",
            request_id,
        )

    def _subscribe(self, conn: OkxConnection, arg: dict[str, Any], request_id: str | None) -> None:
        channel = arg.get("channel")
        if channel == "fills" and conn.private:
            self._error(
                conn,
                "64003",
                "Your trading fee tier doesn't meet the requirement to access this channel",
                request_id,
            )
            return
        wanted = PRIVATE_CHANNELS if conn.private else PUBLIC_CHANNELS
        if channel not in wanted:
            self._bad_channel(conn, arg, request_id)
            return
        echo = {k: v for k, v in arg.items() if isinstance(v, str)}
        if channel in PRIVATE_CHANNELS:
            if conn.api_key is None:
                self._error(conn, "60011", "Please log in", request_id)
                return
            if channel in ("orders", "orders-algo", "positions"):
                inst_type = arg.get("instType")
                if inst_type not in ("ANY", "SPOT", "MARGIN", "SWAP", "FUTURES", "OPTION"):
                    self._bad_channel(conn, arg, request_id)
                    return
            key = self._sub_key(channel, arg)
            first = all(name != channel for name, _ in conn.subs)
            conn.subs[(channel, key)] = echo
            self._event(
                conn, {"event": "subscribe", "arg": echo, "connId": conn.conn_id}, request_id
            )
            if first and channel != "orders-algo":
                self._conn_count_event(conn, channel)
            self._initial_private_push(conn, channel, echo)
            return
        inst = arg.get("instId")
        if not isinstance(inst, str) or inst not in self.instruments:
            self._bad_channel(conn, arg, request_id)
            return
        echo = {"channel": channel, "instId": inst}
        key = self._sub_key(channel, arg)
        already = (channel, key) in conn.subs
        conn.subs[(channel, key)] = echo
        self._event(conn, {"event": "subscribe", "arg": echo, "connId": conn.conn_id}, request_id)
        if already:
            return
        if channel in BOOK_CHANNELS:
            view = self._view(channel, inst)
            view.subscribers.add(conn)
            snapshot = not view.incremental or self.options["book_mode"] != "no_snapshot"
            if snapshot and not self.faults.freeze_books:
                conn.send(self._book_snapshot(view))
        else:
            self._topic_subs.setdefault((channel, inst), set()).add(conn)
            if channel == "tickers":
                ticker = self.engine.ticker(VENUE, inst)
                conn.send(orjson.dumps({"arg": echo, "data": [self._ticker_json(ticker)]}))

    def _unsubscribe(
        self, conn: OkxConnection, arg: dict[str, Any], request_id: str | None
    ) -> None:
        channel = arg.get("channel")
        wanted = PRIVATE_CHANNELS if conn.private else PUBLIC_CHANNELS
        if channel not in wanted:
            self._bad_channel(conn, arg, request_id)
            return
        key = self._sub_key(channel, arg)
        echo = conn.subs.pop((channel, key), None)
        if echo is None:
            echo = {k: v for k, v in arg.items() if isinstance(v, str)}
        else:
            self._unsubscribe_topic(conn, channel, key)
        self._event(conn, {"event": "unsubscribe", "arg": echo, "connId": conn.conn_id}, request_id)

    def _unsubscribe_topic(self, conn: OkxConnection, channel: str, key: str) -> None:
        inst = key.split("|", 1)[0]
        if channel in BOOK_CHANNELS:
            self._drop_view_subscriber(channel, inst, conn)
        elif channel in ("tickers", "trades"):
            subs = self._topic_subs.get((channel, inst))
            if subs is not None:
                subs.discard(conn)
                if not subs:
                    del self._topic_subs[(channel, inst)]
