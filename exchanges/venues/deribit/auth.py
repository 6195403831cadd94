"""Deribit request signing and the clock offset it relies on.

Docs "Authentication" (`public/auth`) and "Additional authorization method - signature
credentials":
- `client_signature`: StringToSign = Timestamp + "\\n" + Nonce + "\\n" + Data, signature =
  lowercase hex HMAC-SHA256(ClientSecret, StringToSign); the timestamp is ms since the epoch and
  is accepted for 60 s, so it is taken from the local clock corrected by the offset to the
  server's clock (`public/get_time`).
- HTTP: `Authorization: deri-hmac-sha256 id=ClientId,ts=Timestamp,sig=Signature,nonce=Nonce`
  with Data = UPPERCASE(HTTP method) + "\\n" + URI (path and query) + "\\n" + body + "\\n".
- `refresh_token` renews a token before its `expires_in` runs out (`client_credentials`,
  which sends the secret itself, is not used). Tokens carry a scope (`connection`, `session:name`,
  `trade:read_write`, ...).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from exchanges.venues.base import Credentials
from exchanges.venues.clock import Clock

HTTP_SCHEME = "deri-hmac-sha256"


def make_nonce() -> str:
    return secrets.token_hex(8)


def sign(secret: str, timestamp_ms: int, nonce: str, data: str = "") -> str:
    """hex HMAC-SHA256(secret, ts + "\\n" + nonce + "\\n" + data)."""
    message = f"{timestamp_ms}\n{nonce}\n{data}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def http_request_data(method: str, uri: str, body: str = "") -> str:
    return f"{method.upper()}\n{uri}\n{body}\n"


def http_authorization(
    credentials: Credentials,
    *,
    method: str,
    uri: str,
    body: str = "",
    timestamp_ms: int,
    nonce: str,
) -> str:
    """The `Authorization` header value of one signed HTTP request."""
    signature = sign(credentials.secret, timestamp_ms, nonce, http_request_data(method, uri, body))
    return f"{HTTP_SCHEME} id={credentials.api_key},ts={timestamp_ms},sig={signature},nonce={nonce}"


def client_signature_params(
    credentials: Credentials,
    *,
    timestamp_ms: int,
    nonce: str,
    data: str = "",
    scope: str | None = None,
) -> dict:
    """`public/auth` params for grant_type `client_signature` (the secret never leaves us)."""
    params = {
        "grant_type": "client_signature",
        "client_id": credentials.api_key,
        "timestamp": timestamp_ms,
        "signature": sign(credentials.secret, timestamp_ms, nonce, data),
        "nonce": nonce,
        "data": data,
    }
    if scope:
        params["scope"] = scope
    return params


def refresh_params(refresh_token: str) -> dict:
    return {"grant_type": "refresh_token", "refresh_token": refresh_token}


class DeribitSigner:
    """Signs HTTP requests and `public/auth` logins of one API key (`protocols.Signer`), with
    timestamps from `clock` (local time plus the offset measured from `public/get_time`).

    `ws_login` gives the `client_signature` params of `public/auth` (the caller wraps them in
    a JSON-RPC request with its own id); REST's token login sends the same. `scope` is the
    token scope asked for (`session:name`, `trade:read_write`, ...), None for the default."""

    def __init__(
        self, credentials: Credentials, clock: Clock | None = None, *, scope: str | None = None
    ) -> None:
        self.credentials = credentials
        self.clock = clock or Clock()
        self.scope = scope

    def rest_headers(self, method: str, request_path: str, body: str = "") -> dict[str, str]:
        """The `Authorization` header of one signed HTTP request (`request_path` is the URI,
        query included)."""
        authorization = http_authorization(
            self.credentials,
            method=method,
            uri=request_path,
            body=body,
            timestamp_ms=self.clock.now_ms(),
            nonce=make_nonce(),
        )
        return {"Authorization": authorization}

    def ws_login(self) -> dict:
        """`public/auth` params, grant type `client_signature` (the secret never leaves us)."""
        return client_signature_params(
            self.credentials,
            timestamp_ms=self.clock.now_ms(),
            nonce=make_nonce(),
            scope=self.scope,
        )


@dataclass(slots=True)
class Token:
    """An access token from `public/auth`, renewed `margin` seconds before it expires."""

    access_token: str
    refresh_token: str
    expires_at: float  # time.monotonic() seconds
    scope: str = ""

    @classmethod
    def from_result(cls, result: dict, *, now: float | None = None) -> Token:
        now = time.monotonic() if now is None else now
        return cls(
            access_token=result["access_token"],
            refresh_token=result.get("refresh_token", ""),
            expires_at=now + float(result.get("expires_in", 0)),
            scope=result.get("scope", ""),
        )

    def expires_within(self, seconds: float, *, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return self.expires_at - now <= seconds
