"""Bybit signatures and permissions: signed REST headers, the WebSocket `auth` op, the trade
stream's header check, API-key scopes ("Authentication", "WebSocket Connect").
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from exchanges.simulator.bybit.constants import IP_LIMIT, VENUE
from exchanges.simulator.bybit.errors import BybitError
from exchanges.simulator.bybit.ws import BybitConnection
from exchanges.simulator.common.signing import hmac_sha256
from exchanges.simulator.engine.records import SimAccount


class BybitAuth:
    """Checks who a Bybit request comes from and what its key may do."""

    def _authenticate(self, request: web.Request, payload: str) -> SimAccount:
        """Check Bybit's HMAC headers (docs "Authentication"); the account or a BybitError."""
        key = request.headers.get("X-BAPI-API-KEY", "")
        timestamp = request.headers.get("X-BAPI-TIMESTAMP", "")
        sign = request.headers.get("X-BAPI-SIGN", "")
        recv_window = request.headers.get("X-BAPI-RECV-WINDOW", "5000")
        if not key or not timestamp or not sign:
            raise BybitError(10003, "API key is invalid.", status=401)
        account = self.engine.account(VENUE, key)
        if account is None:
            raise BybitError(10003, "API key is invalid.")
        try:
            ts = int(timestamp)
            window = int(recv_window)
        except ValueError as exc:
            raise BybitError(
                10001, "params error: X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW invalid"
            ) from exc
        server = self._now_ms()
        if not server - window <= ts < server + 1000:
            raise BybitError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]",
            )
        prehash = f"{timestamp}{key}{recv_window}{payload}"
        expected = hmac_sha256(account.secret, prehash).hex()
        if not hmac.compare_digest(expected, sign):
            raise BybitError(10004, f"error sign! origin_string[{prehash}]")
        return account

    def _ip_allowed(self, request: web.Request) -> bool:
        limit, window = IP_LIMIT
        return self._ip_hits.hit(request.remote or "", limit, window).allowed

    @staticmethod
    def _require_scope(category: str, params: dict) -> None:
        if category in ("linear", "inverse") and not (
            params.get("symbol") or params.get("baseCoin") or params.get("settleCoin")
        ):
            raise BybitError(
                10001,
                "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin",
            )

    def _auth(self, conn: BybitConnection, args: Any, req_id: Any) -> None:
        """`op: auth` (docs "Connect"): key, expires (ms, in the future), hex HMAC of GET/realtime+expires."""

        def answer(code: int, message: str) -> None:
            reply: dict[str, Any] = {
                "op": "auth",
                "success": code == 0,
                "retCode": code,
                "retMsg": message,
                "connId": conn.conn_id,
            }
            if req_id is not None:
                reply["req_id"] = req_id
            self._reply(conn, reply)

        if not isinstance(args, list) or len(args) != 3:
            answer(10001, "Params Error")
            return
        key, expires, sign = args
        account = self.engine.account(VENUE, str(key))
        if account is None:
            answer(10003, "Invalid apikey")
            return
        try:
            expires_ms = int(expires)
        except (TypeError, ValueError):
            answer(10001, "Params Error")
            return
        if expires_ms <= self._now_ms():
            answer(10002, "Request expired")
            return
        expected = hmac_sha256(account.secret, f"GET/realtime{expires}").hex()
        if not isinstance(sign, str) or not hmac.compare_digest(expected, sign):
            answer(10004, "Invalid sign")
            return
        conn.api_key = account.api_key
        self._private.setdefault(account.api_key, set()).add(conn)
        answer(0, "")

    def _check_trade_header(self, header: Any) -> None:
        """The request header's X-BAPI-TIMESTAMP must lie in the recv window (same rule as REST)."""
        if not isinstance(header, dict) or "X-BAPI-TIMESTAMP" not in header:
            raise BybitError(10001, "params error: header X-BAPI-TIMESTAMP is required")
        try:
            ts = int(header["X-BAPI-TIMESTAMP"])
            window = int(header.get("X-BAPI-RECV-WINDOW", 5000))
        except (TypeError, ValueError) as exc:
            raise BybitError(10001, "params error: header X-BAPI-TIMESTAMP invalid") from exc
        server = self._now_ms()
        if not server - window <= ts < server + 1000:
            raise BybitError(
                10002,
                "invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{ts}],server_timestamp[{server}],recv_window[{window}]",
            )
