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


class Signer:
    """Signs REST requests and WebSocket logins of one API key."""

    def __init__(
        self, credentials: Credentials, clock: Clock | None = None, recv_window: int = 5000
    ) -> None:
        self.credentials = credentials
        self.clock = clock or Clock()
        self.recv_window = recv_window

    def rest_headers(self, payload: str, timestamp_ms: int | None = None) -> dict[str, str]:
        """Headers of a signed request whose query string (GET) or body (POST) is `payload`."""
        ts = self.clock.now_ms() if timestamp_ms is None else timestamp_ms
        key = self.credentials.api_key
        signature = sign(self.credentials.secret, rest_prehash(ts, key, self.recv_window, payload))
        return {
            "X-BAPI-API-KEY": key,
            "X-BAPI-TIMESTAMP": str(ts),
            "X-BAPI-RECV-WINDOW": str(self.recv_window),
            "X-BAPI-SIGN": signature,
        }

    def ws_auth(self, expires_ms: int | None = None, valid_for_ms: int = 10_000) -> dict:
        """The `auth` request of the private WebSocket."""
        expires = self.clock.now_ms() + valid_for_ms if expires_ms is None else expires_ms
        signature = sign(self.credentials.secret, ws_prehash(expires))
        return {"op": "auth", "args": [self.credentials.api_key, expires, signature]}
