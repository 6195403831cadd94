"""OKX API v5 request signing, with a clock offset taken from the venue's server time.

docs-v5 "Overview > REST Authentication": headers OK-ACCESS-KEY, OK-ACCESS-SIGN,
OK-ACCESS-TIMESTAMP (ISO-8601 UTC with milliseconds, `2020-12-08T09:08:57.715Z`) and
OK-ACCESS-PASSPHRASE; sign = Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)),
where requestPath includes the query string of a GET. "Overview > WebSocket > Login": the same
HMAC over Unix-seconds timestamp + "GET" + "/users/self/verify". OKX rejects a timestamp more
than 30 s away from its clock (50102), which the offset measured by `sync_clock` into the shared
`clock.Clock` prevents.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from exchanges.venues.base import Credentials
from exchanges.venues.clock import Clock
from exchanges.venues.okx.constants import WS_LOGIN_PATH


def sign(secret: str, prehash: str) -> str:
    """Base64 of HMAC-SHA256(secret, prehash), OKX's one signature recipe."""
    digest = hmac.new(secret.encode(), prehash.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def iso_timestamp(epoch_ns: int) -> str:
    """`2020-12-08T09:08:57.715Z`: the REST timestamp format (millisecond precision)."""
    ms = epoch_ns // 1_000_000
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


class OkxSigner:
    """Signs REST requests and WebSocket logins for one OKX API key (`protocols.Signer`), with
    timestamps from `clock` (local time plus the offset the REST client measured)."""

    def __init__(self, credentials: Credentials, clock: Clock | None = None) -> None:
        self.credentials = credentials
        self.clock = clock or Clock()

    def rest_headers(self, method: str, request_path: str, body: str = "") -> dict[str, str]:
        """The four OK-ACCESS-* headers for `method request_path` (query included) and `body`."""
        timestamp = iso_timestamp(self.clock.now_ns())
        prehash = f"{timestamp}{method.upper()}{request_path}{body}"
        return {
            "OK-ACCESS-KEY": self.credentials.api_key,
            "OK-ACCESS-SIGN": sign(self.credentials.secret, prehash),
            "OK-ACCESS-TIMESTAMP": timestamp,
            "OK-ACCESS-PASSPHRASE": self.credentials.passphrase,
        }

    def ws_login(self) -> dict:
        """The `login` request of the private WebSocket."""
        timestamp = str(self.clock.now_ns() // 1_000_000_000)
        return {
            "op": "login",
            "args": [
                {
                    "apiKey": self.credentials.api_key,
                    "passphrase": self.credentials.passphrase,
                    "timestamp": timestamp,
                    "sign": sign(self.credentials.secret, f"{timestamp}GET{WS_LOGIN_PATH}"),
                }
            ],
        }
