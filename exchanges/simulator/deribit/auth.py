"""Deribit authentication: `public/auth` grants (client credentials, client signature, refresh
token), HTTP Basic and `deri-hmac-sha256` headers, scopes, nonces ("Authentication").
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from exchanges.simulator.common.signing import hmac_sha256
from exchanges.simulator.deribit.constants import METHOD_SCOPES, VENUE
from exchanges.simulator.deribit.errors import (
    RpcError,
    invalid_credentials_error,
    invalid_params_error,
    unauthorized_error,
)
from exchanges.simulator.deribit.rpc import Call
from exchanges.simulator.deribit.session import DeribitConnection
from exchanges.simulator.deribit.wire import param_boolean, param_text
from exchanges.simulator.engine.records import SimAccount


def client_signature(secret: str, timestamp: int | str, nonce: str, data: str) -> str:
    """Hex HMAC-SHA256 of `timestamp\\nnonce\\ndata` (docs "Deribit signature credentials")."""
    return hmac_sha256(secret, f"{timestamp}\n{nonce}\n{data}").hex()


def http_request_data(method: str, uri: str, body: str) -> str:
    """The `data` part of a `deri-hmac-sha256` signature: METHOD, URI (with query) and body."""
    return f"{method.upper()}\n{uri}\n{body}\n"


def _parse_hmac_header(value: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in value.split(","):
        name, eq, text = part.strip().partition("=")
        if eq:
            fields[name.strip()] = text.strip()
    return fields


@dataclass
class Token:
    access_token: str
    refresh_token: str
    api_key: str
    scope: str
    expires_at: float  # time.time()
    connection: (
        DeribitConnection | None
    )  # a `connection`-scoped WebSocket token is valid on that socket only


class DeribitAuth:
    """Authenticates Deribit calls and grants tokens."""

    def _authenticate(self, call: Call, params: dict) -> SimAccount:
        token_text = params.get("access_token")
        if call.conn is None:
            header = call.request.headers.get("Authorization", "") if call.request else ""
            scheme, _, credentials = header.strip().partition(" ")
            scheme = scheme.lower()
            if scheme == "bearer":
                token_text = credentials.strip()
            elif scheme == "basic":
                return self._basic_auth(credentials.strip())
            elif scheme == "deri-hmac-sha256":
                return self._hmac_auth(call, credentials)
            elif header and not token_text:
                raise unauthorized_error("unsupported authorization scheme")
        if token_text:
            token = self._tokens.get(str(token_text))
            if token is None or token.expires_at < time.time():
                raise unauthorized_error("invalid or expired token")
            if token.connection is not None and token.connection is not call.conn:
                raise unauthorized_error("connection scope token used on another connection")
            account = self.engine.account(VENUE, token.api_key)
            if account is None:
                raise unauthorized_error("account gone")
            call.scope = token.scope
            return account
        if call.conn is not None and call.conn.api_key is not None:
            account = self.engine.account(VENUE, call.conn.api_key)
            if account is not None:
                call.scope = call.conn.scope
                return account
        raise unauthorized_error()

    @staticmethod
    def _check_scope(call: Call, method: str) -> None:
        """Tokens carry `trade:`/`account:` access levels (docs "Access scope"); a method
        beyond them is refused with 13021 `forbidden`. Key-based HTTP auth has full access."""
        needed = METHOD_SCOPES.get(method)
        if needed is None or call.scope is None:
            return
        area, level = needed
        granted = next(
            (s.split(":", 1)[1] for s in call.scope.split() if s.startswith(f"{area}:")), "none"
        )
        if granted == "none" or (level == "read_write" and granted != "read_write"):
            raise RpcError(13021, "forbidden", {"reason": f"scope {area}:{level} required"})

    def _basic_auth(self, encoded: str) -> SimAccount:
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_credentials_error("malformed basic credentials") from None
        account = self.engine.account(VENUE, client_id)
        if account is None or account.internal or not hmac.compare_digest(account.secret, secret):
            raise invalid_credentials_error()
        return account

    def _hmac_auth(self, call: Call, credentials: str) -> SimAccount:
        fields = _parse_hmac_header(credentials)
        client_id, ts, sig, nonce = (fields.get(k, "") for k in ("id", "ts", "sig", "nonce"))
        if not client_id or not ts or not sig:
            raise unauthorized_error("malformed deri-hmac-sha256 header")
        account = self.engine.account(VENUE, client_id)
        if account is None or account.internal:
            raise unauthorized_error("unknown client id")
        self._check_timestamp(ts, unauthorized=True)
        request = call.request
        data = http_request_data(request.method, request.raw_path, call.body)
        expected = client_signature(account.secret, ts, nonce, data)
        if not hmac.compare_digest(expected, sig.lower()):
            raise unauthorized_error("bad signature")
        self._use_nonce(client_id, ts, nonce, unauthorized=True)
        return account

    def _check_timestamp(self, ts: Any, *, unauthorized: bool) -> None:
        fail = unauthorized_error if unauthorized else invalid_credentials_error
        try:
            stamp = int(ts)
        except (TypeError, ValueError):
            raise fail("bad timestamp") from None
        now_ms = time.time_ns() // 1_000_000
        if abs(now_ms - stamp) > self.options["signature_window_ms"]:
            raise fail("timestamp out of the 60 s window")

    def _use_nonce(self, client_id: str, ts: str, nonce: str, *, unauthorized: bool) -> None:
        now = time.time()
        window = self.options["signature_window_ms"] / 1000 * 2
        while self._nonces:
            key, seen = next(iter(self._nonces.items()))
            if now - seen <= window:
                break
            self._nonces.popitem(last=False)
        key = (client_id, str(ts), nonce)
        if nonce and key in self._nonces:
            raise (unauthorized_error if unauthorized else invalid_credentials_error)(
                "nonce already used"
            )
        self._nonces[key] = now

    def _user_id(self, api_key: str) -> int:
        user_id = self._user_ids.get(api_key)
        if user_id is None:
            user_id = self._user_ids[api_key] = 96103 + len(self._user_ids)
        return user_id

    def _grant(
        self, account: SimAccount, conn: DeribitConnection | None, requested_scope: str
    ) -> dict:
        requested = requested_scope.split()
        session = [s for s in requested if s.startswith("session:")]
        scopes = {"mainaccount"}
        scopes.add(session[0] if session else "connection")
        access = {"account": "read_write", "trade": "read_write", "wallet": "read_write"}
        for item in requested:
            area, colon, level = item.partition(":")
            if colon and area in access and level in ("read", "read_write", "none"):
                access[area] = level
        scopes.update(f"{area}:{level}" for area, level in access.items())
        for item in requested:
            if item.startswith("expires:"):
                scopes.add(item)
        scope = " ".join(sorted(scopes))
        ttl = self.options["token_ttl"]
        for item in requested:
            if item.startswith("expires:") and item[8:].isdigit():
                ttl = int(item[8:])
        stamp = time.time_ns() // 1_000_000
        token = Token(
            access_token=f"{stamp}.{secrets.token_urlsafe(6)}.{secrets.token_urlsafe(32)}",
            refresh_token=f"{stamp}.{secrets.token_urlsafe(6)}.{secrets.token_urlsafe(32)}",
            api_key=account.api_key,
            scope=scope,
            expires_at=time.time() + ttl,
            connection=conn if conn is not None and not session else None,
        )
        self._tokens[token.access_token] = token
        self._refresh[token.refresh_token] = token
        if conn is not None:
            if conn.api_key != account.api_key:
                conn.cancel_on_disconnect = self._cod_account.get(account.api_key, False)
            conn.api_key = account.api_key
            conn.scope = scope
        return {
            "access_token": token.access_token,
            "expires_in": ttl,
            "refresh_token": token.refresh_token,
            "scope": scope,
            "enabled_features": [],
            "token_type": "bearer",
        }

    async def _public_auth(self, call: Call, params: dict) -> dict:
        grant = param_text(params, "grant_type", required=True)
        scope = param_text(params, "scope", "")
        if grant == "client_credentials":
            client_id = param_text(params, "client_id", required=True)
            secret = param_text(params, "client_secret", required=True)
            account = self.engine.account(VENUE, client_id)
            if (
                account is None
                or account.internal
                or not hmac.compare_digest(account.secret, secret)
            ):
                raise invalid_credentials_error()
        elif grant == "client_signature":
            client_id = param_text(params, "client_id", required=True)
            signature = param_text(params, "signature", required=True)
            timestamp = params.get("timestamp")
            if timestamp is None:
                raise invalid_params_error("timestamp", "value required")
            nonce = str(params.get("nonce") or "")
            data = str(params.get("data") or "")
            account = self.engine.account(VENUE, client_id)
            if account is None or account.internal:
                raise invalid_credentials_error()
            self._check_timestamp(timestamp, unauthorized=False)
            expected = client_signature(account.secret, int(timestamp), nonce, data)
            if not hmac.compare_digest(expected, signature.lower()):
                raise invalid_credentials_error("bad signature")
            self._use_nonce(client_id, str(int(timestamp)), nonce, unauthorized=False)
        elif grant == "refresh_token":
            refresh = param_text(params, "refresh_token", required=True)
            old = self._refresh.pop(refresh, None)
            if old is None or (old.connection is not None and old.connection is not call.conn):
                raise invalid_credentials_error("invalid refresh token")
            self._tokens.pop(old.access_token, None)
            account = self.engine.account(VENUE, old.api_key)
            if account is None:
                raise invalid_credentials_error()
            scope = scope or " ".join(s for s in old.scope.split() if s != "mainaccount")
        else:
            raise invalid_params_error(
                "grant_type", "must be client_credentials, client_signature or refresh_token"
            )
        result = self._grant(account, call.conn, scope)
        state = params.get("state")
        if state is not None:
            result["state"] = state
        return result

    async def _private_logout(self, call: Call, params: dict) -> Any:
        if call.conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        if param_boolean(params, "invalidate_token", True):
            for token in [t for t in self._tokens.values() if t.api_key == call.account.api_key]:
                if token.connection in (None, call.conn):
                    self._tokens.pop(token.access_token, None)
                    self._refresh.pop(token.refresh_token, None)
        call.conn.logged_out = True
        call.close_after = True
        return "ok"
