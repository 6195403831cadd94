"""OKX signatures: REST headers ("REST Authentication") and the WebSocket login ("Login")."""

from __future__ import annotations

import base64
import hmac
from datetime import datetime
from typing import Any

from aiohttp import web

from exchanges.simulator.common.signing import hmac_sha256
from exchanges.simulator.engine.records import SimAccount
from exchanges.simulator.okx.constants import AUTH_WINDOW_S, LOGIN_PATH, VENUE
from exchanges.simulator.okx.errors import OkxError
from exchanges.simulator.okx.ws import OkxConnection


def sign(secret: str, prehash: str) -> str:
    """Base64(HMAC-SHA256(secret, prehash)): OKX's REST and WebSocket-login signature."""
    return base64.b64encode(hmac_sha256(secret, prehash)).decode()


class OkxAuth:
    """Checks the signed REST headers and the WebSocket `login` op of an OKX client."""

    async def _authenticate(self, request: web.Request) -> tuple[SimAccount, bytes]:
        """Check the OK-ACCESS-* headers ("REST Authentication"); returns the account and body."""
        body = await request.read()
        headers = request.headers
        key = headers.get("OK-ACCESS-KEY", "")
        passphrase = headers.get("OK-ACCESS-PASSPHRASE", "")
        stamp = headers.get("OK-ACCESS-TIMESTAMP", "")
        signature = headers.get("OK-ACCESS-SIGN", "")
        if not key:
            raise OkxError("50103", 'Request header "OK-ACCESS-KEY" cannot be empty.', 401)
        if not passphrase:
            raise OkxError("50104", 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.', 401)
        if not stamp:
            raise OkxError("50107", 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.', 401)
        if not signature:
            raise OkxError("50106", 'Request header "OK-ACCESS-SIGN" cannot be empty.', 401)
        if not stamp.endswith("Z"):
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401)
        try:
            sent = datetime.fromisoformat(stamp[:-1] + "+00:00").timestamp()
        except ValueError:
            raise OkxError("50112", "Invalid OK-ACCESS-TIMESTAMP.", 401) from None
        if abs(self._now_ns() / 1e9 - sent) > AUTH_WINDOW_S:
            raise OkxError("50102", "Timestamp request expired.", 401)
        account = self.engine.account(VENUE, key)
        if account is None or account.internal:
            raise OkxError("50111", "Invalid OK-ACCESS-KEY.", 401)
        if not hmac.compare_digest(passphrase, account.passphrase):
            raise OkxError("50105", 'Request header "OK-ACCESS-PASSPHRASE" incorrect.', 401)
        prehash = (
            stamp + request.method.upper() + request.raw_path + body.decode("utf-8", "replace")
        )
        if not hmac.compare_digest(signature, sign(account.secret, prehash)):
            raise OkxError("50113", "Invalid signature.", 401)
        return account, body

    def _login(self, conn: OkxConnection, arg: dict[str, Any], request_id: str | None) -> None:
        """`{"op": "login"}` ("WebSocket" Login): sign of timestamp + GET + /users/self/verify."""
        if conn.api_key is not None:
            self._error(
                conn,
                "60031",
                "The WebSocket endpoint does not allow multiple or repeated logins.",
                request_id,
            )
            return
        key = arg.get("apiKey")
        passphrase = arg.get("passphrase")
        stamp = arg.get("timestamp")
        signature = arg.get("sign")
        if not all(isinstance(v, str) and v for v in (key, passphrase, stamp, signature)):
            self._error(conn, "60009", "Login failure", request_id)
            return
        try:
            sent = float(stamp)
        except ValueError:
            self._error(conn, "60004", "Invalid timestamp", request_id)
            return
        if abs(self._now_ns() / 1e9 - sent) > AUTH_WINDOW_S:
            self._error(conn, "60006", "Timestamp request expired", request_id)
            return
        account = self.engine.account(VENUE, key)
        if account is None or account.internal:
            self._error(conn, "60005", "Invalid apiKey", request_id)
            return
        if not hmac.compare_digest(passphrase, account.passphrase):
            self._error(conn, "60024", "Wrong passphrase", request_id)
            return
        if not hmac.compare_digest(signature, sign(account.secret, stamp + "GET" + LOGIN_PATH)):
            self._error(conn, "60007", "Invalid sign", request_id)
            return
        conn.api_key = key
        self._private.setdefault(key, set()).add(conn)
        self._event(
            conn, {"event": "login", "code": "0", "msg": "", "connId": conn.conn_id}, request_id
        )
