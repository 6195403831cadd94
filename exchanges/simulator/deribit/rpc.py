"""Deribit JSON-RPC over HTTP (`/api/v2/...`): one call in flight (`Call`), the envelope,
dispatch to the method table, and the credit-bucket rate limits ("JSON-RPC", "Rate Limits").
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from exchanges.simulator.common.faults import answer_survives
from exchanges.simulator.common.limits import CreditBucket
from exchanges.simulator.deribit.constants import (
    CANCEL_ALL_METHODS,
    MATCHING_ENGINE_METHODS,
    ORDER_ENTRY_METHODS,
)
from exchanges.simulator.deribit.errors import RpcError, too_many_requests_error
from exchanges.simulator.deribit.session import DeribitConnection
from exchanges.simulator.deribit.wire import dumps, loads
from exchanges.simulator.engine.records import SimAccount


class Call:
    """One request in flight: where it came from and whom it authenticated."""

    __slots__ = (
        "account",
        "body",
        "close_after",
        "conn",
        "face",
        "method_is_private",
        "order_entry",
        "request",
        "scope",
    )

    def __init__(
        self,
        face: Any,  # the DeribitFace serving the call
        conn: DeribitConnection | None,
        *,
        request: web.Request | None = None,
        body: str = "",
    ):
        self.face = face
        self.conn = conn
        self.request = request
        self.body = body
        self.account: SimAccount | None = None
        self.close_after = False
        self.method_is_private = False
        self.order_entry = False  # an accepted order whose answer goes through the answer faults
        self.scope: str | None = None  # the token's scope; None for key-based HTTP auth

    @property
    def remote(self) -> str:
        if self.conn is not None:
            return self.conn.remote
        return (self.request.remote or "") if self.request is not None else ""


class DeribitRpc:
    """Serves Deribit JSON-RPC calls."""

    async def _http_handler(self, request: web.Request) -> web.StreamResponse:
        us_in = time.time_ns() // 1000
        request_id: Any = None
        body_text = ""
        try:
            if request.method == "GET":
                method = f"{request.match_info['group']}/{request.match_info['name']}"
                params: dict[str, Any] = dict(request.query)
                if "id" in params:
                    request_id = params.pop("id")
            else:
                try:
                    raw = await request.read()
                except web.HTTPRequestEntityTooLarge:
                    raise RpcError(-32600, "request entity too large") from None
                body_text = raw.decode("utf-8", "replace")
                try:
                    message = loads(raw) if raw else {}
                except ValueError:
                    raise RpcError(-32700, "Parse error") from None
                if not isinstance(message, dict):
                    raise RpcError(11050, "bad_request")
                request_id = message.get("id")
                params = message.get("params") or {}
                if "group" in request.match_info:
                    method = f"{request.match_info['group']}/{request.match_info['name']}"
                else:
                    method = str(message.get("method", "")).lstrip("/")
                if not isinstance(params, dict):
                    raise RpcError(11050, "bad_request")
            call = Call(self, None, request=request, body=body_text)
            result = await self._dispatch(call, method, params)
        except RpcError as error:
            return self._http_answer(request_id, us_in, error=error)
        if call.order_entry and not await answer_survives(self.faults):
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)  # never reaches the client: the socket is closed
        return self._http_answer(request_id, us_in, result=result)

    def _http_answer(
        self, request_id: Any, us_in: int, *, result: Any = None, error: RpcError | None = None
    ) -> web.Response:
        body = self._envelope(request_id, us_in, result=result, error=error)
        status = 200 if error is None else error.http_status
        return web.Response(body=body, status=status, content_type="application/json")

    def _envelope(
        self, request_id: Any, us_in: int, *, result: Any = None, error: RpcError | None = None
    ) -> bytes:
        message: dict[str, Any] = {"jsonrpc": "2.0"}
        if request_id is not None:
            message["id"] = request_id
        if error is None:
            message["result"] = result
        else:
            message["error"] = error.body()
        us_out = time.time_ns() // 1000
        message["usIn"] = us_in
        message["usOut"] = us_out
        message["usDiff"] = us_out - us_in
        message["testnet"] = bool(self.options["testnet"])
        return dumps(message)

    async def _dispatch(self, call: Call, method: str, params: dict) -> Any:
        handler = self._methods.get(method)
        if handler is None:
            raise RpcError(-32601, "Method not found")
        call.method_is_private = method.startswith("private/")
        if call.method_is_private:
            call.account = self._authenticate(call, params)
            self._check_scope(call, method)
        self._rate_limit(call, method)
        result = await handler(call, params)
        call.order_entry = method in ORDER_ENTRY_METHODS or method == "private/edit_by_label"
        return result

    def _rate_limit(self, call: Call, method: str) -> None:
        if self.faults.rate_limit_burst and self.faults.take("rate_limit_burst"):
            raise too_many_requests_error()
        if method in MATCHING_ENGINE_METHODS:
            group = "matching_engine"
        elif method in CANCEL_ALL_METHODS:
            group = "cancel_all"
        else:
            group = "non_matching_engine"
        who = call.account.api_key if call.account is not None else f"ip:{call.remote}"
        bucket = self._buckets.get((who, group))
        now = time.monotonic()
        if bucket is None:
            limits = self.options["limits"][group]
            bucket = self._buckets[(who, group)] = CreditBucket(
                limits["rate"], limits["burst"], now
            )
        if not bucket.take(now):
            raise too_many_requests_error()
