"""Deribit WebSocket `/ws/api/v2`: the connection, requests over it, heartbeats, cancel on
disconnect, and channel subscriptions ("Subscriptions", "public/set_heartbeat").
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web

from exchanges.simulator.common.faults import answer_survives
from exchanges.simulator.deribit.constants import CURRENCIES, MAX_BODY, VENUE
from exchanges.simulator.deribit.errors import RpcError, invalid_params_error
from exchanges.simulator.deribit.rpc import Call
from exchanges.simulator.deribit.session import Channel, DeribitConnection
from exchanges.simulator.deribit.wire import (
    dumps,
    is_number,
    loads,
    param_decimal,
)
from exchanges.simulator.engine.records import CancelReason, SimReject


class DeribitWs:
    """Serves Deribit WebSocket connections and their subscriptions."""

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            autoping=False, compress=False, max_msg_size=MAX_BODY, timeout=2.0
        )
        await ws.prepare(request)
        self._ensure_ticker()
        loop = asyncio.get_running_loop()
        conn_id = next(self._conn_ids)
        conn = DeribitConnection(
            ws=ws,
            transport=request.transport,
            faults=self.faults,
            conn_id=str(conn_id),
            id=conn_id,
            remote=request.remote or "",
            last_seen=loop.time(),
        )
        self._conns[conn.id] = conn
        conn.start(f"deribit-ws-{conn.id}")
        try:
            async for msg in ws:
                conn.last_seen = loop.time()
                if msg.type == WSMsgType.TEXT:
                    await self._ws_request(conn, msg.data)
                elif msg.type == WSMsgType.PING:
                    await ws.pong(msg.data)
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
                if conn.closing:
                    break
        finally:
            await self._close_conn(conn)
        return ws

    async def _ws_request(self, conn: DeribitConnection, data: str) -> None:
        us_in = time.time_ns() // 1000
        request_id: Any = None
        try:
            try:
                message = loads(data)
            except ValueError:
                raise RpcError(-32700, "Parse error") from None
            if not isinstance(message, dict) or not isinstance(message.get("method"), str):
                raise RpcError(11050, "bad_request")
            request_id = message.get("id")
            params = message.get("params") or {}
            if not isinstance(params, dict):
                raise RpcError(11050, "bad_request")
            method = message["method"].lstrip("/")
            if method.startswith("api/v2/"):
                method = method[len("api/v2/") :]
            call = Call(self, conn)
            result = await self._dispatch(call, method, params)
        except RpcError as error:
            conn.send(self._envelope(request_id, us_in, error=error))
            if error.code == 10028:
                conn.finish()
            return
        if call.order_entry and (self.faults.ack_delay_ms or self.faults.lose_acks):
            self._answer_later(conn, request_id, us_in, result)
            return
        conn.send(self._envelope(request_id, us_in, result=result))
        if call.close_after:
            conn.finish()

    def _answer_later(
        self, conn: DeribitConnection, request_id: Any, us_in: int, result: Any
    ) -> None:
        """Answer an accepted order through the answer faults (`common.answer_survives`):
        later (ack_delay_ms), or not at all and close the socket (lose_acks), while the
        connection goes on reading and answering other requests."""

        async def run() -> None:
            if await answer_survives(self.faults):
                conn.send(self._envelope(request_id, us_in, result=result))
            else:
                conn.finish()

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close_conn(self, conn: DeribitConnection, code: int = 1000) -> None:
        if self._conns.pop(conn.id, None) is None:
            return
        conn.finish()
        if conn.heartbeat is not None:
            conn.heartbeat.cancel()
        for feed in self._feeds.values():
            feed.raw_subs.discard(conn)
        for published in self._grouped.values():
            for key in [k for k in published if k[0] == conn.id]:
                del published[key]
        self._private_dirty.discard(conn)
        await conn.stop_writer(flush_s=1.0)
        await conn.close(code)
        for token in [t for t in self._tokens.values() if t.connection is conn]:
            self._tokens.pop(token.access_token, None)
            self._refresh.pop(token.refresh_token, None)
        if conn.cancel_on_disconnect and conn.api_key and not conn.logged_out:
            self._cancel_on_disconnect(conn)

    def _cancel_on_disconnect(self, conn: DeribitConnection) -> None:
        api_key = conn.api_key
        if api_key is None or self.engine.account(VENUE, api_key) is None:
            return
        if self.options["cod_cancels"] == "account":
            orders = self.engine.open_orders(VENUE, api_key)
        else:
            orders = [
                o
                for o in self.engine.open_orders(VENUE, api_key)
                if o.order_id in conn.orders_placed
            ]
        with self.engine.batch_book_updates():
            for order in orders:
                try:
                    self.engine.cancel_order(
                        VENUE,
                        api_key,
                        order.symbol,
                        order_id=order.order_id,
                        reason=CancelReason.DISCONNECT,
                    )
                except SimReject:
                    continue

    def _drop_all(self) -> None:
        for conn in list(self._conns.values()):
            conn.drop()

    async def _public_set_heartbeat(self, call: Call, params: dict) -> str:
        if call.conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        interval = param_decimal(params, "interval")
        if interval is None:
            raise invalid_params_error("interval", "value required")
        if interval < Decimal(str(self.options["min_heartbeat_interval"])):
            raise invalid_params_error(
                "interval", f"must be at least {self.options['min_heartbeat_interval']}"
            )
        conn = call.conn
        if conn.heartbeat is not None:
            conn.heartbeat.cancel()
        conn.heartbeat_unanswered = False
        conn.heartbeat = asyncio.get_running_loop().create_task(
            self._heartbeat(conn, float(interval)), name=f"deribit-heartbeat-{conn.id}"
        )
        return "ok"

    async def _public_disable_heartbeat(self, call: Call, params: dict) -> str:
        if call.conn is not None and call.conn.heartbeat is not None:
            call.conn.heartbeat.cancel()
            call.conn.heartbeat = None
        return "ok"

    async def _heartbeat(self, conn: DeribitConnection, interval: float) -> None:
        test_request = dumps(
            {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}
        )
        while not conn.closing:
            await asyncio.sleep(interval)
            if conn.heartbeat_unanswered:
                conn.heartbeat = None
                conn.finish()
                await self._close_conn(conn, code=1000)
                if conn.transport is not None:
                    conn.transport.close()
                return
            conn.heartbeat_unanswered = True
            conn.send(test_request)

    def _parse_channel(self, name: str) -> Channel | None:
        parts = name.split(".")
        family = parts[0]
        if family in ("book", "ticker", "trades") and len(parts) == 3:
            if parts[2] not in ("raw", "100ms", "agg2") or parts[1] not in self.instruments:
                return None
            if family == "ticker" and parts[2] == "agg2":
                return None
            return Channel(name, family, parts[2], instrument=parts[1])
        if family == "book" and len(parts) == 5:
            instrument, group, depth, interval = parts[1:]
            if instrument not in self.instruments or interval not in ("100ms", "agg2"):
                return None
            if depth not in ("1", "10", "20") or (group != "none" and not is_number(group)):
                return None
            return Channel(
                name, "book_grouped", interval, instrument=instrument, group=group, depth=int(depth)
            )
        if family == "trades" and len(parts) == 4:
            kind, currency, interval = parts[1:]
            if kind not in ("future", "option", "any") or currency not in (*CURRENCIES, "any"):
                return None
            if interval not in ("raw", "100ms"):
                return None
            return Channel(name, family, interval, kind=kind, currency=currency)
        if family == "user" and len(parts) >= 3:
            sub = parts[1]
            if sub == "portfolio" and len(parts) == 3:
                currency = parts[2].upper()
                if currency not in (*CURRENCIES, "ANY"):
                    return None
                return Channel(
                    name, "user.portfolio", "raw", currency=currency.replace("ANY", "any")
                )
            if sub not in ("orders", "trades", "changes"):
                return None
            interval = parts[-1]
            if interval not in ("raw", "100ms", "agg2"):
                return None
            if len(parts) == 4 and parts[2] in self.instruments:
                return Channel(name, f"user.{sub}", interval, instrument=parts[2])
            if len(parts) == 5:
                kind, currency = parts[2], parts[3]
                if kind not in ("future", "option", "spot", "any") or currency not in (
                    *CURRENCIES,
                    "any",
                ):
                    return None
                return Channel(name, f"user.{sub}", interval, kind=kind, currency=currency)
        return None

    async def _subscribe(self, call: Call, params: dict) -> list[str]:
        conn = call.conn
        if conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        channels = params.get("channels")
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            raise invalid_params_error("channels", "must be a list of channel names")
        private = call.method_is_private
        authorized = conn.api_key is not None or call.account is not None
        subscribed: list[str] = []
        for name in channels:
            channel = self._parse_channel(name)
            if channel is None:
                continue
            if channel.private and not private:
                continue
            if (
                channel.interval == "raw"
                and not channel.private
                and not authorized
                and self.options["raw_requires_auth"]
            ):
                raise RpcError(13778, "raw_subscriptions_not_available_for_unauthorized")
            if name not in conn.channels:
                conn.channels[name] = channel
                self._start_channel(conn, channel)
            subscribed.append(name)
        return subscribed

    def _start_channel(self, conn: DeribitConnection, channel: Channel) -> None:
        if channel.family == "book_grouped":
            self._grouped.get(channel.instrument, {}).pop((conn.id, channel.name), None)
        if channel.family != "book":
            return
        feed = self._feed(channel.instrument)
        if channel.interval == "raw":
            if not self.faults.freeze_books:
                conn.send(self._snapshot_message(channel.name, feed, feed.bids, feed.asks))
            feed.raw_subs.add(conn)
        else:
            conn.book_pending.add(channel.name)

    async def _unsubscribe(self, call: Call, params: dict) -> list[str]:
        conn = call.conn
        if conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        channels = params.get("channels")
        if not isinstance(channels, list):
            raise invalid_params_error("channels", "must be a list of channel names")
        removed = []
        for name in channels:
            if isinstance(name, str) and conn.channels.pop(name, None) is not None:
                self._stop_channel(conn, name)
                removed.append(name)
        return removed

    async def _unsubscribe_all(self, call: Call, params: dict) -> str:
        conn = call.conn
        if conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        for name in list(conn.channels):
            conn.channels.pop(name)
            self._stop_channel(conn, name)
        return "ok"

    def _stop_channel(self, conn: DeribitConnection, name: str) -> None:
        conn.book_pending.discard(name)
        conn.private_raw.pop(name, None)
        conn.private_batched.pop(name, None)
        parts = name.split(".")
        if parts[0] == "book" and len(parts) == 3 and parts[2] == "raw":
            feed = self._feeds.get(parts[1])
            if feed is not None and not any(
                c.family == "book" and c.interval == "raw" and c.instrument == parts[1]
                for c in conn.channels.values()
            ):
                feed.raw_subs.discard(conn)
