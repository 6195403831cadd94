"""Bybit v5 request signing, with a clock offset so a skewed local clock still signs in time.

REST ("Authentication", bybit-exchange.github.io/docs/v5/guide): headers `X-BAPI-API-KEY`,
`X-BAPI-TIMESTAMP` (ms), `X-BAPI-RECV-WINDOW`, `X-BAPI-SIGN`, where the signature is the lowercase
hex HMAC-SHA256 of `timestamp + api_key + recv_window + payload`, the payload being the URL query
string of a GET or the raw JSON body of a POST. Bybit accepts a request when
`server_time - recv_window <= timestamp < server_time + 1000`, hence the offset.

WebSocket ("Connect" > Authentication): `{"op":"auth","args":[api_key, expires_ms, signature]}`
with the signature the hex HMAC-SHA256 of `"GET/realtime" + expires`.
"""

from __future__ import annotations

import hashlib
import hmac

from exchanges.venues.base import Credentials
from exchanges.venues.bybit.constants import RECV_WINDOW_MS, WS_AUTH_EXPIRES_MS
from exchanges.venues.clock import Clock


def sign(secret: str, prehash: str) -> str:
    """Lowercase hex HMAC-SHA256 of `prehash` keyed by `secret`."""
    return hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).hexdigest()


def rest_prehash(
    timestamp_ms: int | str, api_key: str, recv_window: int | str, payload: str
) -> str:
    return f"{timestamp_ms}{api_key}{recv_window}{payload}"


def ws_prehash(expires_ms: int | str) -> str:
    return f"GET/realtime{expires_ms}"


class BybitSigner:
    """Signs REST requests and WebSocket logins of one API key (`protocols.Signer`), with
    timestamps from `clock` (local time plus the offset the REST client measured)."""

    def __init__(
        self,
        credentials: Credentials,
        clock: Clock | None = None,
        *,
        recv_window: int = RECV_WINDOW_MS,
        login_valid_for_ms: int = WS_AUTH_EXPIRES_MS,
    ) -> None:
        self.credentials = credentials
        self.clock = clock or Clock()
        self.recv_window = recv_window
        self.login_valid_for_ms = login_valid_for_ms

    def rest_headers(self, method: str, request_path: str, body: str = "") -> dict[str, str]:
        """Headers of a signed request: the signed payload is the query string of a GET
        (what follows `?` in `request_path`) or the raw JSON `body` of a POST."""
        payload = request_path.partition("?")[2] if method.upper() == "GET" else body
        ts = self.clock.now_ms()
        key = self.credentials.api_key
        signature = sign(self.credentials.secret, rest_prehash(ts, key, self.recv_window, payload))
        return {
            "X-BAPI-API-KEY": key,
            "X-BAPI-TIMESTAMP": str(ts),
            "X-BAPI-RECV-WINDOW": str(self.recv_window),
            "X-BAPI-SIGN": signature,
        }

    def ws_login(self) -> dict:
        """The `auth` request of the private WebSocket, valid `login_valid_for_ms` from now."""
        expires = self.clock.now_ms() + self.login_valid_for_ms
        signature = sign(self.credentials.secret, ws_prehash(expires))
        return {"op": "auth", "args": [self.credentials.api_key, expires, signature]}
