"""Bybit v5 private WebSocket: the sans-IO `BybitPrivateSession` (driven by `ws.WsClient`) and
the `BybitPrivateStream` wrapper (the public side is in `public.py`).

Private (`private_ws_url`): `{"op":"auth","args":[key, expires, sig]}` then topics `order`,
`execution`, `position`, `wallet` (and `dcp`, which arms Bybit's disconnect cancel-all). An
`execution` of the account's orders is a `FillEvent`; funding, settlement, delivery, ADL and
liquidation executions are `AccountExecution`s (`parse.execution_kind`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from exchanges.venues.base import (
    Credentials,
    Endpoints,
    Event,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Venue,
    now_ns,
)
from exchanges.venues.bybit import constants as C
from exchanges.venues.bybit import parse
from exchanges.venues.bybit.auth import BybitSigner
from exchanges.venues.bybit.parse import loads
from exchanges.venues.bybit.public import batches
from exchanges.venues.bybit.symbols import SymbolError, SymbolTable
from exchanges.venues.clock import Clock
from exchanges.venues.numbers import NS_PER_MS
from exchanges.venues.ws import (
    Backoff,
    Link,
    PrivateSocketStream,
    WsClient,
)

BYBIT = Venue.BYBIT
log = logging.getLogger(__name__)


class BybitPrivateSession:
    """Orders, executions, positions and wallet of one account after `auth` (sans IO)."""

    def __init__(
        self,
        signer: BybitSigner,
        *,
        symbols: SymbolTable | None = None,
        topics: Iterable[str] = C.PRIVATE_TOPICS,
        dead_man_switch: bool = False,
        ping_interval: float = C.WS_PING_INTERVAL,
        idle_timeout: float = C.WS_IDLE_TIMEOUT,
    ) -> None:
        self.signer = signer
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.topics = list(topics) + (["dcp"] if dead_man_switch else [])
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.authenticated = False
        self._req_ids = itertools.count(1)

    def on_connect(self, link: Link) -> None:
        self.authenticated = False
        request = self.signer.ws_login()
        request["req_id"] = "auth"
        link.send(request)

    def on_disconnect(self) -> None:
        self.authenticated = False

    def ping(self) -> str:
        return '{"op":"ping"}'

    def on_message(self, raw: str | bytes, link: Link) -> list[Event]:
        message = loads(raw)
        if not isinstance(message, dict):
            raise ProtocolError("not a Bybit message", venue=BYBIT)
        topic = message.get("topic")
        if topic is None:
            return self._on_reply(message, link)
        try:
            kind = topic.split(".", 1)[0]
            if kind == "order":
                return self._orders(message)
            if kind == "execution":
                return self._executions(message)
            if kind == "position":
                return self._positions(message)
            if kind == "wallet":
                return self._wallet(message)
            if kind == "dcp":
                return []
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ProtocolError(f"bad {topic} message: {exc!r}", venue=BYBIT) from exc
        raise ProtocolError(f"unexpected topic {topic!r}", venue=BYBIT)

    def _status(self, state: StreamState, detail: str = "") -> StreamStatus:
        return StreamStatus(BYBIT, StreamKind.PRIVATE, state, now_ns(), detail)

    def _on_reply(self, message: dict, link: Link) -> list[Event]:
        op = message.get("op")
        if op in ("ping", "pong"):
            return []
        if op == "auth":
            if message.get("success"):
                self.authenticated = True
                for request in batches("subscribe", self.topics, self._req_ids):
                    link.send(request)
                return [self._status(StreamState.AUTHENTICATED)]
            detail = f"auth refused: {message.get('retCode')} {message.get('retMsg')}"
            link.reconnect(detail)
            return [self._status(StreamState.DISCONNECTED, detail)]
        if op == "subscribe":
            if not message.get("success"):
                raise ProtocolError(f"subscribe refused: {message.get('ret_msg')}", venue=BYBIT)
            return [self._status(StreamState.SUBSCRIBED, ",".join(self.topics))]
        raise ProtocolError(f"unexpected reply op={op!r}", venue=BYBIT)

    def _symbol(self, item: dict) -> tuple[str, str]:
        category = item["category"]
        try:
            return category, self.symbols.unified_in(category, item["symbol"])
        except SymbolError as exc:
            raise ProtocolError(str(exc), venue=BYBIT) from exc

    def _orders(self, message: dict) -> list[Event]:
        received = now_ns()
        return [
            parse.parse_order(item, self._symbol(item)[1], received) for item in message["data"]
        ]

    def _executions(self, message: dict) -> list[Event]:
        received = now_ns()
        events: list[Event] = []
        for item in message["data"]:
            if parse.is_trade_execution(item):
                events.append(parse.parse_fill(item, self._symbol(item)[1], received))
            elif parse.execution_kind(item) is not None:
                events.append(parse.parse_account_execution(item, self._symbol(item)[1], received))
            else:
                log.warning("bybit execution of unknown execType skipped: %s", item)
        return events

    def _positions(self, message: dict) -> list[Event]:
        received = now_ns()
        created = int(message.get("creationTime") or 0) * NS_PER_MS
        events: list[Event] = []
        for item in message["data"]:
            position = parse.parse_position(item, self._symbol(item)[1], received)
            if not position.exchange_ts and created:
                position = replace(position, exchange_ts=created)
            events.append(position)
        return events

    def _wallet(self, message: dict) -> list[Event]:
        created = int(message.get("creationTime") or 0) * NS_PER_MS
        balances = parse.parse_balances(message["data"], now_ns())
        return [replace(balance, exchange_ts=created) for balance in balances]


# --------------------------------------------------------------------------- stream wrappers


class BybitPrivateStream(PrivateSocketStream):
    """Private account stream of one API key (`PrivateStream`)."""

    venue = BYBIT

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials,
        *,
        symbols: SymbolTable | None = None,
        clock: Clock | None = None,
        dead_man_switch: bool = False,
        backoff: Backoff | None = None,
        ping_interval: float = C.WS_PING_INTERVAL,
        idle_timeout: float = C.WS_IDLE_TIMEOUT,
        **client_options: Any,
    ) -> None:
        self.session = BybitPrivateSession(
            BybitSigner(credentials, clock or Clock()),
            symbols=symbols,
            dead_man_switch=dead_man_switch,
            ping_interval=ping_interval,
            idle_timeout=idle_timeout,
        )
        self.client = WsClient(
            endpoints.private_ws_url,
            self.session,
            venue=BYBIT,
            kind=StreamKind.PRIVATE,
            backoff=backoff,
            **client_options,
        )
