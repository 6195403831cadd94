"""Synchronous OKX v5 REST client (one account, or anonymous for public data).

Envelope (docs-v5 "Overview > REST API"): `{"code": "0", "msg": "", "data": [...]}`; order
endpoints report each order's own result as `sCode`/`sMsg` inside `data`, and the envelope's
`code` is then "1" (all failed) or "2" (some failed). Every error code becomes a typed error via
`constants.error_for`. Placement is never retried: on a timeout (ours, or OKX's own 50004/51149
"outcome unknown") the client looks the order up by `clOrdId` and reports what it finds.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import orjson
import requests

from exchanges.venues.base import (
    AmendRequest,
    BookSnapshot,
    Credentials,
    Endpoints,
    InstrumentInfo,
    InstrumentKind,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderStatus,
    OrderType,
    OrderUpdate,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    Ticker,
    TimeInForce,
    Trade,
    Venue,
    VenueError,
    VenueUnavailable,
    cancel_accepted,
    now_ns,
)
from exchanges.venues.clock import Clock
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.algos import AlgoOrders
from exchanges.venues.okx.auth import OkxSigner
from exchanges.venues.okx.parse import (
    parse_book,
    parse_instrument,
    parse_order,
    parse_ticker,
    parse_trade,
    with_algo,
)
from exchanges.venues.okx.rest_account import OkxAccountRest
from exchanges.venues.okx.rest_algo import OkxAlgoRest
from exchanges.venues.okx.symbols import SymbolTable, kind_of
from exchanges.venues.ratelimit import RateLimiter
from exchanges.venues.rest_common import (
    DEFAULT_TIMEOUT,
    penalize,
    pooled_session,
    send,
    settle_lost_placement,
)

log = logging.getLogger(__name__)


def default_endpoints(*, demo: bool = False) -> Endpoints:
    """The live OKX endpoints (demo trading uses the wspap host and a REST header)."""
    if demo:
        return C.TESTNET_ENDPOINTS
    return C.LIVE_ENDPOINTS


def validate_client_order_id(client_order_id: str) -> None:
    """OKX `clOrdId` is 1-32 letters and digits (else the venue answers 51000)."""
    if not C.CLIENT_ORDER_ID.fullmatch(client_order_id or ""):
        raise InvalidOrder(
            f"clOrdId must be 1-32 letters and digits, got {client_order_id!r}",
            venue=Venue.OKX,
            code="51000",
        )


def _plain(value: Decimal) -> str:
    return format(value, "f")


def _ord_type(request: OrderRequest) -> str:
    if request.order_type is OrderType.MARKET:
        return "market"
    if request.post_only:
        return "post_only"
    return {TimeInForce.GTC: "limit", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}[
        request.time_in_force
    ]


class OkxRestClient(OkxAlgoRest, OkxAccountRest):
    """RestClient for OKX API v5 over one pooled `requests.Session`.

    Conditional orders (stop loss, take profit) are OKX algo orders (`rest_algo`); `algos`
    remembers their type, trigger and ids for the private stream sharing this client.

    Options: `demo` adds the demo-trading header `x-simulated-trading: 1`; `timeout` is the
    (connect, read) timeout in seconds; `td_mode` is the derivatives trade mode (`cross` or
    `isolated`; spot always trades `cash`); `option_families` the instrument families whose
    options `instruments()` lists (OKX requires one per request).
    """

    venue = Venue.OKX

    def __init__(
        self,
        endpoints: Endpoints | None = None,
        credentials: Credentials | None = None,
        *,
        demo: bool = False,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        td_mode: str = "cross",
        option_families: tuple[str, ...] = ("BTC-USD", "ETH-USD"),
        inst_types: tuple[str, ...] = C.INST_TYPES,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        symbols: SymbolTable | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.endpoints = endpoints or default_endpoints(demo=demo)
        self.base_url = self.endpoints.rest_url.rstrip("/")
        self.credentials = credentials
        self.clock = clock or Clock()
        self.signer = OkxSigner(credentials, self.clock) if credentials else None
        self.timeout = timeout
        self.td_mode = td_mode
        self.option_families = option_families
        self.inst_types = inst_types
        self.session = pooled_session(session)
        self.session.headers.update(
            {"Content-Type": "application/json", "Accept": "application/json"}
        )
        if demo:
            self.session.headers[C.DEMO_HEADER[0]] = C.DEMO_HEADER[1]
        self.limiter = limiter or RateLimiter(C.RATE_LIMITS)
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.algos = AlgoOrders()

    # -- transport ----------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        group: str = "default",
        cost: float = 1.0,
        signed: bool = False,
    ) -> dict:
        """Send one request and return the decoded envelope (code "0", "1" or "2").

        A transport failure raises RequestTimeout / VenueUnavailable; an envelope error other
        than a per-order failure raises the mapped error; rate limits penalize the group.
        """
        query = f"?{urlencode(params)}" if params else ""
        request_path = f"{path}{query}"
        payload = orjson.dumps(body).decode() if body is not None else ""
        headers = {}
        if signed:
            if self.signer is None:
                raise VenueError("this endpoint needs API credentials", venue=Venue.OKX)
            headers = self.signer.rest_headers(method, request_path, payload)
        self.limiter.acquire(group, cost)
        response = send(
            self.session,
            method,
            f"{self.base_url}{request_path}",
            venue=Venue.OKX,
            what=f"{method} {path}",
            timeout=self.timeout,
            data=payload or None,
            headers=headers,
        )
        return self._envelope(response, group, f"{method} {path}")

    def _envelope(self, response: requests.Response, group: str, what: str) -> dict:
        try:
            envelope = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            envelope = None
        if not isinstance(envelope, dict) or "code" not in envelope:
            if response.status_code == 429:
                raise penalize(
                    self.limiter,
                    group,
                    RateLimited(f"{what}: HTTP 429", venue=Venue.OKX, code="429"),
                    C.RATE_LIMIT_PENALTY_SECONDS,
                )
            if response.status_code >= 500:
                raise VenueUnavailable(
                    f"{what}: HTTP {response.status_code}",
                    venue=Venue.OKX,
                    code=response.status_code,
                )
            raise ProtocolError(
                f"{what}: HTTP {response.status_code} {response.text[:200]!r}", venue=Venue.OKX
            )
        code = str(envelope["code"])
        if code in ("0", "1", "2") and isinstance(envelope.get("data"), list):
            if code != "0" and not envelope["data"]:
                self._raise(code, envelope.get("msg", ""), group, response.status_code)
            return envelope
        self._raise(code, envelope.get("msg", ""), group, response.status_code)
        raise AssertionError  # unreachable

    def _raise(self, code: str, message: str, group: str, http_status: int | None = None) -> None:
        error = C.error_for(code, message, http_status=http_status)
        if isinstance(error, RateLimited):
            raise penalize(self.limiter, group, error, C.RATE_LIMIT_PENALTY_SECONDS)
        raise error

    def _data(self, envelope: dict, group: str) -> list[dict]:
        """The data list of a non-order endpoint (code "0" required)."""
        if envelope["code"] != "0":
            self._raise(envelope["code"], envelope.get("msg", ""), group)
        return envelope["data"]

    def _item(self, envelope: dict, group: str) -> dict:
        """The single per-order result of an order endpoint; its `sCode` != "0" raises."""
        data = envelope["data"]
        if not data:
            raise ProtocolError("order endpoint answered without data", venue=Venue.OKX)
        item = data[0]
        s_code = str(item.get("sCode", envelope["code"]))
        if s_code != "0":
            self._raise(s_code, item.get("sMsg") or envelope.get("msg", ""), group)
        return item

    # -- clock --------------------------------------------------------------------------

    def server_time(self) -> int:
        envelope = self._request("GET", C.PATH_SERVER_TIME, group="public_time")
        return int(self._data(envelope, "public_time")[0]["ts"]) * 1_000_000

    def sync_clock(self) -> int:
        """Measure server minus local time (midpoint of the round trip) and sign with it."""
        return self.clock.sync(self.server_time)

    # -- reference and market data ------------------------------------------------------

    def instruments(self) -> list[InstrumentInfo]:
        out: list[InstrumentInfo] = []
        for inst_type in self.inst_types:
            queries = (
                [{"instType": inst_type, "instFamily": f} for f in self.option_families]
                if inst_type == "OPTION"
                else [{"instType": inst_type}]
            )
            for params in queries:
                envelope = self._request(
                    "GET", C.PATH_INSTRUMENTS, params=params, group="instruments"
                )
                for raw in self._data(envelope, "instruments"):
                    info = parse_instrument(raw)
                    self.symbols.add(info)
                    out.append(info)
        return out

    def ticker(self, venue_symbol: str) -> Ticker:
        envelope = self._request(
            "GET", C.PATH_TICKER, params={"instId": venue_symbol}, group="ticker"
        )
        data = self._data(envelope, "ticker")
        if not data:
            raise ProtocolError(f"no ticker for {venue_symbol}", venue=Venue.OKX)
        return parse_ticker(data[0], self.symbols.unified(venue_symbol), now_ns())

    def order_book(self, venue_symbol: str, depth: int = 50) -> BookSnapshot:
        """GET /api/v5/market/books (`sz` up to 400). `sequence` is its `seqId` (-1 if absent)."""
        depth = max(1, min(depth, C.BOOK_MAX_DEPTH))
        envelope = self._request(
            "GET",
            C.PATH_ORDER_BOOK,
            params={"instId": venue_symbol, "sz": str(depth)},
            group="books",
        )
        data = self._data(envelope, "books")
        if not data:
            raise ProtocolError(f"no book for {venue_symbol}", venue=Venue.OKX)
        return parse_book(data[0], self.symbols.unified(venue_symbol), now_ns())

    def recent_trades(self, venue_symbol: str, limit: int = 100) -> list[Trade]:
        """GET /api/v5/market/trades: the latest `limit` (up to 500) trades, oldest first."""
        limit = max(1, min(limit, C.TRADES_MAX))
        envelope = self._request(
            "GET",
            C.PATH_TRADES,
            params={"instId": venue_symbol, "limit": str(limit)},
            group="trades",
        )
        symbol, received = self.symbols.unified(venue_symbol), now_ns()
        return [
            parse_trade(raw, symbol, received) for raw in reversed(self._data(envelope, "trades"))
        ]

    # -- orders -------------------------------------------------------------------------

    def _td_mode(self, venue_symbol: str) -> str:
        return "cash" if kind_of(venue_symbol) is InstrumentKind.SPOT else self.td_mode

    def place_order(self, request: OrderRequest) -> OrderUpdate:
        validate_client_order_id(request.client_order_id)
        if request.order_type.is_conditional:
            try:
                return self._place_algo(request)
            except RequestTimeout as exc:
                return settle_lost_placement(
                    request,
                    exc,
                    lambda: self.order_by_client_id(request.venue_symbol, request.client_order_id),
                    venue=Venue.OKX,
                )
        body: dict[str, str] = {
            "instId": request.venue_symbol,
            "tdMode": self._td_mode(request.venue_symbol),
            "clOrdId": request.client_order_id,
            "side": request.side.value,
            "ordType": _ord_type(request),
            "sz": _plain(request.quantity),
        }
        if request.order_type is OrderType.LIMIT:
            if request.price is None:
                raise InvalidOrder("a limit order needs a price", venue=Venue.OKX)
            body["px"] = _plain(request.price)
        elif kind_of(request.venue_symbol) is InstrumentKind.SPOT:
            body["tgtCcy"] = "base_ccy"
        if request.reduce_only:
            body["reduceOnly"] = "true"
        try:
            envelope = self._request("POST", C.PATH_ORDER, body=body, group="place", signed=True)
            item = self._item(envelope, "place")
        except RequestTimeout as exc:
            return settle_lost_placement(
                request,
                exc,
                lambda: self.order_by_client_id(request.venue_symbol, request.client_order_id),
                venue=Venue.OKX,
            )
        return OrderUpdate(
            venue=Venue.OKX,
            symbol=request.symbol,
            client_order_id=item.get("clOrdId") or request.client_order_id,
            venue_order_id=item.get("ordId") or None,
            side=request.side,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            price=request.price,
            quantity=request.quantity,
            filled_quantity=Decimal(0),
            average_price=None,
            status=OrderStatus.NEW,
            exchange_ts=int(item["ts"]) * 1_000_000 if item.get("ts") else 0,
            receive_ts=now_ns(),
            post_only=request.post_only,
            reduce_only=request.reduce_only,
        )

    def amend_order(self, request: AmendRequest) -> OrderUpdate:
        """Amend an order: a plain one with amend-order; a waiting conditional one
        (`request.conditional`) with amend-algos (`rest_algo`). A conditional order that fired
        rests as a plain order of its own `ordId` (see `cancel_order`): when amend-order finds
        no order by the algo's ids, the order the algo placed is amended, and reported under
        the algo's ids."""
        if request.conditional is not None:
            return self._amend_algo(request)
        body: dict[str, str] = {"instId": request.venue_symbol}
        if request.venue_order_id:
            body["ordId"] = request.venue_order_id
        elif request.client_order_id:
            body["clOrdId"] = request.client_order_id
        else:
            raise InvalidOrder("amend needs an order id or client order id", venue=Venue.OKX)
        try:
            self._amend_plain(body, request)
        except OrderNotFound as not_found:
            ord_id = self._placed_order_id_or_none(request.venue_order_id, request.client_order_id)
            if ord_id is None:
                raise not_found from None
            self._amend_plain({"instId": request.venue_symbol, "ordId": ord_id}, request)
            placed = self._order_after_change(request.venue_symbol, ord_id, None)
            return replace(
                placed,
                venue_order_id=request.venue_order_id or placed.venue_order_id,
                client_order_id=request.client_order_id or placed.client_order_id,
            )
        return self._order_after_change(
            request.venue_symbol, request.venue_order_id, request.client_order_id
        )

    def _amend_plain(self, body: dict[str, str], request: AmendRequest) -> None:
        if request.price is not None:
            body["newPx"] = _plain(request.price)
        if request.quantity is not None:
            body["newSz"] = _plain(request.quantity)
        envelope = self._request("POST", C.PATH_AMEND_ORDER, body=body, group="amend", signed=True)
        self._item(envelope, "amend")

    def cancel_order(
        self,
        venue_symbol: str,
        *,
        client_order_id: str | None = None,
        venue_order_id: str | None = None,
        conditional: bool = False,
    ) -> OrderUpdate:
        """Cancel an order: a plain one with cancel-order; an untriggered conditional one
        (`conditional`) with cancel-algos.

        A conditional order that fired rests as a plain order of its own `ordId`, which the
        gateway does not know (it holds the `algoId`/`algoClOrdId`). So when the plain cancel
        finds no such order, the algo's details are read: if they name the order it placed,
        that order is canceled. Plain cancels of plain orders cost nothing extra."""
        if conditional:
            return self._cancel_algo(venue_symbol, client_order_id, venue_order_id)
        body = {"instId": venue_symbol}
        if venue_order_id:
            body["ordId"] = venue_order_id
        elif client_order_id:
            body["clOrdId"] = client_order_id
        else:
            raise InvalidOrder("cancel needs an order id or client order id", venue=Venue.OKX)
        envelope = self._request(
            "POST", C.PATH_CANCEL_ORDER, body=body, group="cancel", signed=True
        )
        try:
            item = self._item(envelope, "cancel")
        except OrderNotFound as not_found:
            ord_id = self._placed_order_id_or_none(venue_order_id, client_order_id)
            if ord_id is None:
                raise not_found from None
            return self._cancel_plain(venue_symbol, ord_id, client_order_id, venue_order_id)
        return cancel_accepted(
            Venue.OKX,
            self.symbols.unified(venue_symbol),
            client_order_id=item.get("clOrdId") or client_order_id,
            venue_order_id=item.get("ordId") or venue_order_id,
            receive_ts=now_ns(),
        )

    def _order_after_change(
        self, venue_symbol: str, venue_order_id: str | None, client_order_id: str | None
    ) -> OrderUpdate:
        """The order's state after an accepted amend/cancel (OKX acks only with ids)."""
        params = {"instId": venue_symbol}
        if venue_order_id:
            params["ordId"] = venue_order_id
        else:
            params["clOrdId"] = client_order_id or ""
        envelope = self._request(
            "GET", C.PATH_ORDER, params=params, group="order_details", signed=True
        )
        data = self._data(envelope, "order_details")
        if not data:
            raise OrderNotFound(f"order {params} not found", venue=Venue.OKX, code="51603")
        return parse_order(data[0], self.symbols.unified(venue_symbol), now_ns())

    def cancel_all(self, venue_symbol: str | None = None) -> int:
        """Cancel every open order (of one instrument if given) via cancel-batch-orders, 20 at a
        time: OKX has no single cancel-all outside its MMP endpoints; then every untriggered
        conditional (algo) order via cancel-algos, 10 at a time."""
        orders = self._pending(venue_symbol)
        canceled = self._cancel_all_algos(venue_symbol)
        for start in range(0, len(orders), C.CANCEL_BATCH_MAX):
            batch = orders[start : start + C.CANCEL_BATCH_MAX]
            body = [{"instId": o["instId"], "ordId": o["ordId"]} for o in batch]
            envelope = self._request(
                "POST",
                C.PATH_CANCEL_BATCH,
                body=body,
                group="cancel_batch",
                cost=len(body),
                signed=True,
            )
            for item in envelope["data"]:
                if str(item.get("sCode", "0")) == "0":
                    canceled += 1
                else:
                    log.info(
                        "okx cancel-all: %s not canceled: %s %s",
                        item.get("ordId"),
                        item.get("sCode"),
                        item.get("sMsg"),
                    )
        return canceled

    def _pending(self, venue_symbol: str | None) -> list[dict]:
        out: list[dict] = []
        params: dict[str, str] = {"limit": str(C.PAGE_LIMIT)}
        if venue_symbol:
            params["instId"] = venue_symbol
        while True:
            envelope = self._request(
                "GET", C.PATH_OPEN_ORDERS, params=params, group="orders_pending", signed=True
            )
            page = self._data(envelope, "orders_pending")
            out.extend(page)
            if len(page) < C.PAGE_LIMIT:
                return out
            params = {**params, "after": page[-1]["ordId"]}

    def open_orders(self, venue_symbol: str | None = None) -> list[OrderUpdate]:
        """Orders on the book (a fired conditional one under its algo's ids), then the
        untriggered conditional ones."""
        received = now_ns()
        plain = [
            with_algo(
                parse_order(raw, self.symbols.unified(raw["instId"]), received),
                self._algo_of_order(raw),
            )
            for raw in self._pending(venue_symbol)
        ]
        return plain + self._open_algos(venue_symbol)

    def _algo_of_order(self, raw: dict):
        """What is known of the algo that placed the plain order `raw` (None for our own)."""
        algo_id = raw.get("algoId")
        if not algo_id:
            return None
        if raw.get("ordId"):
            self.algos.link(raw["ordId"], algo_id)
        return self.algos.get(algo_id)

    def order_by_client_id(self, venue_symbol: str, client_order_id: str) -> OrderUpdate | None:
        """GET /api/v5/trade/order?instId=&clOrdId=; not there, the conditional order of that
        `algoClOrdId` (`_algo_by_client_id`); None when OKX knows neither (51603)."""
        try:
            envelope = self._request(
                "GET",
                C.PATH_ORDER,
                params={"instId": venue_symbol, "clOrdId": client_order_id},
                group="order_details",
                signed=True,
            )
            data = self._data(envelope, "order_details")
        except OrderNotFound as exc:
            if exc.code in C.ORDER_NOT_FOUND_CODES:
                return self._algo_by_client_id(venue_symbol, client_order_id)
            raise
        if not data:
            return self._algo_by_client_id(venue_symbol, client_order_id)
        return with_algo(
            parse_order(data[0], self.symbols.unified(venue_symbol), now_ns()),
            self._algo_of_order(data[0]),
        )

    def close(self) -> None:
        self.session.close()
