"""OKX v5 private WebSocket (`/ws/v5/private`): the sans-IO `OkxPrivateSession` (driven by
`ws.WsClient`) and the `OkxPrivateStream` built on it.

Login, then `orders` (which also carries each execution: `fillSz`/`fillPx`/`tradeId`, since the
`fills` channel is VIP-only), `orders-algo` (conditional orders: stop loss, take profit),
`positions` and `account`. An order of a venue-made `category`
(ADL, full or partial liquidation, delivery) is not one of ours: its executions are
`AccountExecution`s and the order itself is not reported. Public channels are in `public.py`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal

import orjson

from exchanges.venues.base import (
    AccountExecution,
    Credentials,
    Endpoints,
    Event,
    FillEvent,
    ProtocolError,
    StreamKind,
    StreamState,
    StreamStatus,
    Venue,
    VenueError,
    now_ns,
)
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.algos import AlgoOrders
from exchanges.venues.okx.auth import OkxSigner
from exchanges.venues.okx.parse import (
    algo_of,
    execution_kind,
    fill_fee,
    order_fill,
    parse_account_execution,
    parse_algo_order,
    parse_balances,
    parse_order,
    parse_position,
    with_algo,
)
from exchanges.venues.okx.rest import OkxRestClient, default_endpoints
from exchanges.venues.okx.symbols import SymbolTable
from exchanges.venues.ws import (
    DEFAULT_MAX_QUEUE,
    Backoff,
    Link,
    PrivateSocketStream,
    WsClient,
)

log = logging.getLogger(__name__)

OKX = Venue.OKX
PRIVATE = StreamKind.PRIVATE
D = Decimal
_loads = orjson.loads
_JSONError = orjson.JSONDecodeError


class OkxPrivateSession:
    """The OKX v5 private WebSocket (`/ws/v5/private`): login, then `orders` (order updates and
    the fills they report), `positions` and `account` (balances), all for every instrument type.

    Fills are deduplicated by `tradeId` (a repeated push yields one FillEvent). A fill's fee is
    `fillFee` when the push carries it, else the change of the order's accumulated `fee`
    (`parse.fill_fee`).
    """

    def __init__(
        self,
        signer: OkxSigner,
        *,
        symbols: SymbolTable | None = None,
        channels: tuple[dict, ...] = (
            {"channel": "orders", "instType": "ANY"},
            {"channel": "orders-algo", "instType": "ANY"},
            {"channel": "positions", "instType": "ANY"},
            {"channel": "account"},
        ),
        algos: AlgoOrders | None = None,
        ping_interval: float = C.WS_PING_INTERVAL,
        idle_timeout: float = C.WS_IDLE_TIMEOUT,
        remembered_fills: int = 10_000,
        clock_sync: Callable[[], int] | None = None,
    ) -> None:
        self.signer = signer
        self.clock_sync = clock_sync
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.algos = algos if algos is not None else AlgoOrders()
        self.channels = list(channels)
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        self.authenticated = False
        self._remembered = remembered_fills
        self._seen_fills: OrderedDict[str, None] = OrderedDict()
        self._order_fees: dict[str, tuple[Decimal, Decimal]] = {}  # ordId -> (accFillSz, fee)

    def on_connect(self, link: Link) -> None:
        """Log in; with `clock_sync` (a blocking call that measures the venue clock and stores
        the offset the signer uses) the login waits for it, run in a worker thread."""
        self.authenticated = False
        if self.clock_sync is None:
            link.send(self.signer.ws_login())
        else:
            link.spawn(self._login_after_clock_sync(link))

    async def _login_after_clock_sync(self, link: Link) -> None:
        try:
            await asyncio.to_thread(self.clock_sync)
        except VenueError as exc:
            log.warning("okx clock sync before login failed (%s); signing with local time", exc)
        if not link.closed:
            link.send(self.signer.ws_login())

    def on_disconnect(self) -> None:
        self.authenticated = False

    def ping(self) -> str:
        return "ping"

    def on_message(self, raw: str | bytes, link: Link) -> list[Event]:
        if raw == "pong" or raw == b"pong":
            return []
        try:
            msg = _loads(raw)
            data = msg.get("data")
        except (_JSONError, AttributeError):
            raise ProtocolError("not a JSON object", venue=OKX) from None
        if data is None:
            return self._on_event(msg, link)
        channel = msg.get("arg", {}).get("channel")
        received = now_ns()
        try:
            if channel == "orders":
                return self._on_orders(data, received)
            if channel == "orders-algo":
                return self._on_algo_orders(data, received)
            if channel == "positions":
                return [
                    parse_position(item, self.symbols.unified(item["instId"]), received)
                    for item in data
                    if item.get("instId")
                ]
            if channel == "account":
                out: list[Event] = []
                for item in data:
                    out.extend(parse_balances(item, received))
                return out
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError) as exc:
            raise ProtocolError(f"malformed {channel} push: {exc!r}", venue=OKX) from None
        raise ProtocolError("push of an unknown channel", venue=OKX)

    def _on_event(self, msg: dict, link: Link) -> list[Event]:
        event = msg.get("event")
        if event == "login":
            if str(msg.get("code", "0")) != "0":
                link.reconnect(f"login refused {msg.get('code')}: {msg.get('msg')}")
                return []
            self.authenticated = True
            link.send({"op": "subscribe", "args": self.channels})
            return [StreamStatus(OKX, PRIVATE, StreamState.AUTHENTICATED, now_ns())]
        if event == "subscribe":
            channel = msg.get("arg", {}).get("channel", "")
            return [StreamStatus(OKX, PRIVATE, StreamState.SUBSCRIBED, now_ns(), detail=channel)]
        if event in ("unsubscribe", "channel-conn-count"):
            return []
        if event == "notice":
            link.reconnect(f"venue notice {msg.get('code')}: {msg.get('msg')}")
            return []
        if event == "error":
            if not self.authenticated:
                log.error("okx private login failed: %s %s", msg.get("code"), msg.get("msg"))
                link.reconnect(f"login failed {msg.get('code')}: {msg.get('msg')}")
                return []
            raise ProtocolError(f"venue error {msg.get('code')}: {msg.get('msg')}", venue=OKX)
        raise ProtocolError("unknown message", venue=OKX)

    def _on_orders(self, data: list, received: int) -> list[Event]:
        out: list[Event] = []
        for item in data:
            symbol = self.symbols.unified(item["instId"])
            if execution_kind(item) is not None:  # an order the venue made: not ours
                execution = self._execution_of(item, symbol, received)
                if execution is not None:
                    out.append(execution)
                continue
            algo = None
            if item.get("algoId"):
                if item.get("ordId"):
                    self.algos.link(item["ordId"], item["algoId"])
                algo = self.algos.get(item["algoId"])
            update = with_algo(parse_order(item, symbol, received), algo)
            out.append(update)
            fill = self._fill_of(item, symbol, received)
            if fill is not None:
                out.append(fill)
            if update.status.is_terminal and update.venue_order_id:
                self._order_fees.pop(update.venue_order_id, None)
        return out

    def _on_algo_orders(self, data: list, received: int) -> list[Event]:
        """`orders-algo` pushes of conditional orders (other algo kinds are not ours: logged
        and skipped). Each one's type and trigger are remembered for the pushes of the order
        it places when it fires (`algos`)."""
        out: list[Event] = []
        for item in data:
            if item.get("ordType") != C.ALGO_ORD_TYPE:
                log.info("okx orders-algo: skipped a %s algo: %s", item.get("ordType"), item)
                continue
            self.algos.remember(algo_of(item), item.get("ordId") or None)
            out.append(parse_algo_order(item, self.symbols.unified(item["instId"]), received))
        return out

    def _execution_of(self, item: dict, symbol: str, received: int) -> AccountExecution | None:
        """The execution of a liquidation, ADL or delivery order, once per trade id."""
        trade_id = item.get("tradeId")
        key = f"{item.get('ordId', '')}:{trade_id}"
        if not trade_id or key in self._seen_fills:
            return None
        execution = parse_account_execution(item, symbol, received)
        if execution is not None:
            self._remember(key)
        return execution

    def _remember(self, key: str) -> None:
        self._seen_fills[key] = None
        if len(self._seen_fills) > self._remembered:
            self._seen_fills.popitem(last=False)

    def _fill_of(self, item: dict, symbol: str, received: int) -> FillEvent | None:
        trade_id = item.get("tradeId")
        if not trade_id or not item.get("fillSz") or D(item["fillSz"]) == 0:
            return None
        order_id = item.get("ordId", "")
        key = f"{order_id}:{trade_id}"
        if key in self._seen_fills:
            return None
        self._remember(key)
        filled = D(item.get("accFillSz") or "0")
        accumulated = D(item.get("fee") or "0")
        previous = self._order_fees.get(order_id)
        if item.get("fillFee") or previous is None or filled > previous[0]:
            fee = fill_fee(item, previous[1] if previous else None)
        else:
            # an out-of-order push: share the accumulated fee by this fill's part of the volume
            fee = -accumulated * D(item["fillSz"]) / filled if filled else D(0)
        if previous is None or filled > previous[0]:
            self._order_fees[order_id] = (filled, accumulated)
        return order_fill(item, symbol, received, fee)


# --------------------------------------------------------------------------- streams


class OkxPrivateStream(PrivateSocketStream):
    """PrivateStream over the private WebSocket. It signs with the REST client's signer (pass
    the account's `rest` client to share it) and, with `sync_clock` (default), measures the venue
    clock before every login, since OKX refuses a login timestamp 30 s away from its own."""

    venue = Venue.OKX

    def __init__(
        self,
        endpoints: Endpoints | None,
        credentials: Credentials,
        *,
        rest: OkxRestClient | None = None,
        sync_clock: bool = True,
        backoff: Backoff | None = None,
        max_queue: int = DEFAULT_MAX_QUEUE,
        **session_options,
    ) -> None:
        self.endpoints = endpoints or default_endpoints()
        self._owns_rest = rest is None or rest.signer is None
        if self._owns_rest:
            rest = OkxRestClient(self.endpoints, credentials)
        self.rest = rest
        self.session = OkxPrivateSession(
            rest.signer,
            symbols=rest.symbols,
            algos=rest.algos,
            clock_sync=rest.sync_clock if sync_clock else None,
            **session_options,
        )
        self.client = WsClient(
            self.endpoints.private_ws_url,
            self.session,
            venue=OKX,
            kind=PRIVATE,
            backoff=backoff,
            max_queue=max_queue,
        )

    async def close(self) -> None:
        await super().close()
        if self._owns_rest:
            self.rest.close()
