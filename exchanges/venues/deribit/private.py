"""Deribit private WebSocket: the sans-IO `DeribitPrivateSession` (driven by `ws.WsClient`) and
the `DeribitPrivateStream` built on it (the public side and the shared JSON-RPC plumbing are in
`public.py`).

One socket `{ws}/ws/api/v2` carries JSON-RPC requests, their answers (with `id`) and
notifications (`method: "subscription"`, `params: {channel, data}`; docs "Notifications").

A trade in which our own side was liquidated (`user.trades` `liquidation`) is an
`AccountExecution`, not a fill.

Private session: `public/get_time` to measure the clock offset, then `public/auth`
(client_signature with the corrected timestamp: it is only accepted for 60 s), then
`private/subscribe` to `user.orders.*`, `user.trades.*`, `user.changes.*` (positions) and
`user.portfolio.*`; the token is renewed with `refresh_token` before `expires_in` runs out.
Error 10028 `too_many_requests` ends the venue's session: the connection is dropped so the driver
reconnects and both sessions authenticate and subscribe again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable

from exchanges.venues.base import (
    Credentials,
    Endpoints,
    Event,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Venue,
)
from exchanges.venues.clock import Clock
from exchanges.venues.deribit import auth, parse
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit.auth import DeribitSigner
from exchanges.venues.deribit.parse import decode_message
from exchanges.venues.deribit.public import Rpc, answer_test_request, batches
from exchanges.venues.deribit.symbols import SymbolTable
from exchanges.venues.ws import (
    DEFAULT_MAX_QUEUE,
    Backoff,
    Link,
    PrivateSocketStream,
    WsClient,
)

VENUE = Venue.DERIBIT
TOKEN_REFRESH_MARGIN = 60.0
DEFAULT_PRIVATE_CHANNELS = (
    "user.orders.any.any.raw",
    "user.trades.any.any.raw",
    "user.changes.any.any.raw",
    "user.portfolio.any",
)


class DeribitPrivateSession:
    """Private stream of one account: orders, fills, positions and balances after login."""

    def __init__(
        self,
        signer: DeribitSigner,
        *,
        channels: Iterable[str] = DEFAULT_PRIVATE_CHANNELS,
        heartbeat: int = C.WS_PING_INTERVAL,
        cancel_on_disconnect: bool = False,
        sync_clock: bool = True,
        symbols: SymbolTable | None = None,
    ) -> None:
        self.signer = signer
        self.clock = signer.clock
        self.sync_clock = sync_clock
        self.channels = list(channels)
        self.heartbeat = heartbeat
        self.cancel_on_disconnect = cancel_on_disconnect
        self.cancel_on_disconnect_enabled = False  # the venue confirmed it on this connection
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.ping_interval = float(heartbeat)
        self.idle_timeout = float(heartbeat) * 3
        self.token: auth.Token | None = None
        self.authenticated = False
        self._rpc = Rpc()

    def _login_request(self) -> dict:
        return self._rpc.request(C.METHOD_AUTH, self.signer.ws_login(), "login")

    def on_connect(self, link: Link) -> None:
        self._rpc.clear()
        self.token = None
        self.authenticated = False
        if self.sync_clock:
            link.send(self._rpc.request(C.METHOD_GET_TIME, {}, "time", time.time_ns()))
        else:
            link.send(self._login_request())
        link.send(
            self._rpc.request(C.METHOD_SET_HEARTBEAT, {"interval": self.heartbeat}, "heartbeat")
        )

    def on_disconnect(self) -> None:
        self.token = None
        self.authenticated = False
        self.cancel_on_disconnect_enabled = False

    def ping(self) -> str | None:
        token = self.token
        if token is not None and token.refresh_token and token.expires_within(TOKEN_REFRESH_MARGIN):
            request = self._rpc.request(
                C.METHOD_AUTH, auth.refresh_params(token.refresh_token), "refresh"
            )
        else:
            request = self._rpc.request(C.METHOD_TEST, {}, "test")
        return json.dumps(request)

    def on_message(self, raw: str | bytes, link: Link) -> list[Event]:
        receive_ts = time.time_ns()
        message = decode_message(raw)
        method = message.get("method")
        if method == "subscription":
            try:
                params = message["params"]
                return self._on_notification(params["channel"], params["data"], receive_ts)
            except (KeyError, TypeError, IndexError, ValueError) as exc:
                raise ProtocolError(f"bad private notification: {exc!r}", venue=VENUE) from exc
        if method == "heartbeat":
            answer_test_request(message, self._rpc, link)
            return []
        if "id" in message:
            return self._on_response(message, receive_ts, link)
        raise ProtocolError(f"unexpected message method={method!r}", venue=VENUE)

    def _on_notification(self, channel: str, data, receive_ts: int) -> list[Event]:
        symbols = self.symbols
        if channel.startswith("user.orders."):
            items = data if isinstance(data, list) else [data]
            return [
                parse.parse_order(item, symbols.unified(item["instrument_name"]), receive_ts)
                for item in items
            ]
        if channel.startswith("user.trades."):
            return [
                (
                    parse.parse_account_execution
                    if parse.execution_kind(item) is not None
                    else parse.parse_fill
                )(item, symbols.unified(item["instrument_name"]), receive_ts)
                for item in data
            ]
        if channel.startswith("user.changes."):
            # orders and trades also arrive on their own channels; positions only come here
            return [
                parse.parse_position(item, symbols.unified(item["instrument_name"]), receive_ts)
                for item in data.get("positions") or ()
            ]
        if channel.startswith("user.portfolio."):
            items = data if isinstance(data, list) else [data]
            return [balance for item in items for balance in parse.parse_balances(item, receive_ts)]
        raise ProtocolError(f"unhandled private channel {channel}", venue=VENUE)

    def _on_response(self, message: dict, receive_ts: int, link: Link) -> list[Event]:
        purpose, context = self._rpc.pending.pop(message["id"], ("", None))
        error = message.get("error")
        if error is not None:
            exc = parse.parse_error(error)
            if exc.code == C.ERROR_TOO_MANY_REQUESTS:
                link.reconnect("too_many_requests ends the session")
                return []
            if purpose == "time":
                link.send(self._login_request())
                return []
            if purpose in ("login", "refresh"):
                link.reconnect(f"authentication failed: {exc}")
                return [
                    StreamStatus(
                        VENUE, StreamKind.PRIVATE, StreamState.DISCONNECTED, receive_ts, str(exc)
                    )
                ]
            raise ProtocolError(
                f"{purpose or 'request'} refused: {exc}", venue=VENUE, code=exc.code
            )
        result = message.get("result")
        if purpose == "time":
            self.clock.update(parse.parse_server_time(result), context, receive_ts)
            link.send(self._login_request())
            return []
        if purpose in ("login", "refresh"):
            self.token = auth.Token.from_result(result)
            if purpose == "refresh":
                return []
            self.authenticated = True
            for batch in batches(self.channels):
                link.send(
                    self._rpc.request(C.METHOD_PRIVATE_SUBSCRIBE, {"channels": batch}, "subscribe")
                )
            if self.cancel_on_disconnect:
                link.send(
                    self._rpc.request(
                        C.METHOD_ENABLE_CANCEL_ON_DISCONNECT, {"scope": "connection"}, "cod"
                    )
                )
            return [
                StreamStatus(
                    VENUE,
                    StreamKind.PRIVATE,
                    StreamState.AUTHENTICATED,
                    receive_ts,
                    self.token.scope,
                )
            ]
        if purpose == "cod":
            self.cancel_on_disconnect_enabled = True
            return []
        if purpose == "subscribe":
            return [
                StreamStatus(
                    VENUE,
                    StreamKind.PRIVATE,
                    StreamState.SUBSCRIBED,
                    receive_ts,
                    f"{len(result or ())} channels",
                )
            ]
        return []


# --------------------------------------------------------------------------- streams


class DeribitPrivateStream(PrivateSocketStream):
    """Private Deribit stream of one account over `WsClient`."""

    venue = VENUE

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials,
        *,
        channels: Iterable[str] = DEFAULT_PRIVATE_CHANNELS,
        heartbeat: int = C.WS_PING_INTERVAL,
        cancel_on_disconnect: bool = False,
        scope: str | None = None,
        clock: Clock | None = None,
        sync_clock: bool = True,
        backoff: Backoff | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        symbols: SymbolTable | None = None,
    ) -> None:
        self.session = DeribitPrivateSession(
            DeribitSigner(credentials, clock, scope=scope),
            channels=channels,
            heartbeat=heartbeat,
            cancel_on_disconnect=cancel_on_disconnect,
            sync_clock=sync_clock,
            symbols=symbols,
        )
        self.client = WsClient(
            endpoints.private_ws_url,
            self.session,
            venue=VENUE,
            kind=StreamKind.PRIVATE,
            backoff=backoff,
            max_queue=max_queue,
        )
