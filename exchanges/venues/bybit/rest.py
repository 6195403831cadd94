"""Bybit v5 REST client (the `RestClient` protocol) on one pooled `requests.Session`.

Every call goes through `_call`: a token bucket per endpoint group (constants.RATE_LIMITS),
signing with the clock offset (auth.BybitSigner), the `retCode`/`retMsg`/`result` envelope, and the
one error table (constants.ERRORS, read by constants.error_for). Bybit specifics handled here:

- 10002 (timestamp outside recv_window) re-measures the clock offset from `/v5/market/time` and
  raises `ClockSkew`; the caller decides whether to send again. Nothing is retried blindly.
- 10006 (rate limit) and an `X-Bapi-Limit-Status` of 0 empty the endpoint group's bucket until
  `X-Bapi-Limit-Reset-Timestamp`; HTTP 403 is the IP ban ("Rate Limit Rules"), 10 minutes.
- A placement whose answer is lost (timeout, connection error, 10000 Server Timeout) is looked
  up by `orderLinkId`: found means accepted, otherwise `SubmissionUncertain` (ABSENT/UNKNOWN).
- Every call needs a `category`: symbols are resolved through a `SymbolTable` (see symbols.py),
  loaded from `instruments()` on first need.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import quote, urlencode

import orjson
import requests

from exchanges.venues.base import (
    AccountExecution,
    AmendRequest,
    AuthenticationError,
    BalanceUpdate,
    BookSnapshot,
    Credentials,
    Endpoints,
    FillEvent,
    FillPage,
    InstrumentInfo,
    OrderNotFound,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    PositionUpdate,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    Ticker,
    Trade,
    Venue,
    VenueError,
    VenueUnavailable,
    cancel_accepted,
    now_ns,
)
from exchanges.venues.bybit import constants as C
from exchanges.venues.bybit import parse
from exchanges.venues.bybit.auth import BybitSigner
from exchanges.venues.bybit.encode import amend_body, order_body, order_time_in_force
from exchanges.venues.bybit.symbols import SymbolError, SymbolTable, UnknownSymbol
from exchanges.venues.clock import Clock
from exchanges.venues.numbers import ms_ns
from exchanges.venues.ratelimit import RateLimiter
from exchanges.venues.rest_common import (
    DEFAULT_TIMEOUT,
    penalize,
    pooled_session,
    send,
    settle_lost_placement,
)

log = logging.getLogger(__name__)

BYBIT = Venue.BYBIT


class Response:
    """The `result` of a successful call and the envelope's `time` (ns)."""

    __slots__ = ("result", "time_ns")

    def __init__(self, result: dict, time_ns: int) -> None:
        self.result = result
        self.time_ns = time_ns


class BybitRestClient:
    """Synchronous REST client of one Bybit account (or anonymous for public data)."""

    venue = BYBIT

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials | None = None,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        recv_window: int = C.RECV_WINDOW_MS,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        symbols: SymbolTable | None = None,
        clock: Clock | None = None,
        categories: tuple[str, ...] = C.CATEGORIES,
        option_base_coins: tuple[str, ...] = C.OPTION_BASE_COINS,
    ) -> None:
        self.endpoints = endpoints
        self.base_url = endpoints.rest_url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.clock = clock or Clock()
        self.signer = (
            BybitSigner(credentials, self.clock, recv_window=recv_window) if credentials else None
        )
        self.session = pooled_session(session)
        self.session.headers.setdefault("Content-Type", "application/json")
        self.limiter = limiter or RateLimiter(C.RATE_LIMITS)
        self.symbols = symbols if symbols is not None else SymbolTable()
        self.categories = categories
        self.option_base_coins = option_base_coins
        self._instruments_loaded = len(self.symbols) > 0

    # ------------------------------------------------------------------ transport

    def _call(
        self, method: str, path: str, params: dict | None = None, *, signed: bool = True
    ) -> Response:
        group = C.RATE_LIMIT_GROUPS.get(path, "default")
        self.limiter.acquire(group)
        params = {k: v for k, v in (params or {}).items() if v is not None}
        request_path = path
        headers: dict[str, str] = {}
        body: str | None = None
        if method == "GET":
            # Bybit hands cursors out URL-encoded and expects them back as they are (the
            # official SDK sends the query unencoded), so "%" is left alone.
            query = urlencode(params, safe="%", quote_via=quote)
            if query:
                request_path = f"{path}?{query}"
        else:
            body = orjson.dumps(params).decode()
        if signed:
            if self.signer is None:
                raise AuthenticationError("this call needs API credentials", venue=BYBIT)
            headers = self.signer.rest_headers(method, request_path, body or "")
        reply = send(
            self.session,
            method,
            self.base_url + request_path,
            venue=BYBIT,
            what=f"{method} {path}",
            timeout=self.timeout,
            data=body,
            headers=headers,
        )
        return self._handle(reply, method, path, group)

    def _handle(self, reply: requests.Response, method: str, path: str, group: str) -> Response:
        self._watch_limit_headers(reply, group)
        if reply.status_code == 403:
            for banned in C.RATE_LIMITS:  # the IP ban covers every endpoint
                self.limiter.penalize(banned, C.IP_BAN_PENALTY_SECONDS)
            raise RateLimited(
                f"HTTP 403 {reply.text[:200]}",
                venue=BYBIT,
                code=403,
                retry_after=C.IP_BAN_PENALTY_SECONDS,
            )
        try:
            envelope = orjson.loads(reply.content)
        except orjson.JSONDecodeError:
            envelope = None
        if not isinstance(envelope, dict) or "retCode" not in envelope:
            status = reply.status_code
            text = reply.text[:200]
            if status == 429:
                raise penalize(
                    self.limiter,
                    group,
                    RateLimited(text, venue=BYBIT, code=status),
                    C.RATE_LIMIT_PENALTY_SECONDS,
                )
            if status == 401:
                raise AuthenticationError(text, venue=BYBIT, code=status)
            if status >= 500:
                raise VenueUnavailable(text, venue=BYBIT, code=status)
            raise ProtocolError(f"{method} {path} HTTP {status}: {text}", venue=BYBIT)
        code = int(envelope["retCode"])
        if code != 0:
            self._raise(code, str(envelope.get("retMsg", "")), reply, group)
        result = envelope.get("result")
        return Response(result if isinstance(result, dict) else {}, ms_ns(envelope.get("time")))

    def _watch_limit_headers(self, reply: requests.Response, group: str) -> None:
        """With no request left in the window, hold the group until the reset time (plus a
        margin for the clock offset's error) instead of waiting for a 10006."""
        remaining = reply.headers.get("X-Bapi-Limit-Status")
        if remaining is not None and remaining.strip() == "0":
            self.limiter.penalize(
                group, self._until_reset(reply) + C.RATE_LIMIT_RESET_MARGIN_SECONDS
            )

    def _until_reset(self, reply: requests.Response) -> float:
        reset = reply.headers.get("X-Bapi-Limit-Reset-Timestamp")
        if not reset or not reset.strip().isdigit():
            return 0.0
        return max(0.0, (int(reset) - self.clock.now_ms()) / 1000)

    def _raise(self, code: int, message: str, reply: requests.Response, group: str) -> None:
        error = C.error_for(code, message, reply.status_code)
        if error.code == C.ERROR_CLOCK_SKEW:
            try:
                self.sync_clock()
            except VenueError as exc:
                log.warning("bybit clock resync after 10002 failed: %s", exc)
        if isinstance(error, RateLimited):
            wait = self._until_reset(reply) or C.RATE_LIMIT_PENALTY_SECONDS
            raise penalize(self.limiter, group, error, wait)
        raise error

    def _pages(self, path: str, params: dict, key: str = "list") -> Iterator[tuple[dict, Response]]:
        """Every item of a cursor-paginated list (`nextPageCursor`)."""
        params = dict(params)
        params.setdefault("limit", C.PAGE_LIMIT.get(path))
        while True:
            response = self._call("GET", path, params, signed=path != C.PATH_INSTRUMENTS)
            for item in response.result.get(key) or ():
                yield item, response
            cursor = response.result.get("nextPageCursor")
            if not cursor:
                return
            params["cursor"] = cursor

    # ------------------------------------------------------------------ symbols

    def resolve(self, name: str) -> tuple[str, str]:
        """(category, Bybit symbol) of a unified, `category:NAME` or bare name."""
        try:
            return self.symbols.resolve(name)
        except UnknownSymbol:
            if self._instruments_loaded:
                raise
        self.instruments()
        return self.symbols.resolve(name)

    def _unified(self, category: str, symbol: str) -> str:
        try:
            return self.symbols.unified_in(category, symbol)
        except SymbolError as exc:
            raise ProtocolError(str(exc), venue=BYBIT) from exc

    # ------------------------------------------------------------------ public data

    def server_time(self) -> int:
        response = self._call("GET", C.PATH_SERVER_TIME, signed=False)
        return int(response.result["timeNano"])

    def sync_clock(self) -> int:
        """Measure the offset to Bybit's clock (midpoint of the round trip) and sign with it."""
        return self.clock.sync(self.server_time)

    def instruments(self) -> list[InstrumentInfo]:
        """Every instrument of every category (options per base coin), and fill the table."""
        found: list[InstrumentInfo] = []
        for category in self.categories:
            bases: tuple[str | None, ...] = (
                self.option_base_coins if category == C.OPTION else (None,)
            )
            for base_coin in bases:
                params = {"category": category, "baseCoin": base_coin}
                for item, _ in self._pages(C.PATH_INSTRUMENTS, params):
                    found.append(parse.parse_instrument(item))
        self.symbols.add_all(found)
        self._instruments_loaded = True
        return found

    def ticker(self, venue_symbol: str) -> Ticker:
        category, symbol = self.resolve(venue_symbol)
        response = self._call(
            "GET", C.PATH_TICKER, {"category": category, "symbol": symbol}, signed=False
        )
        items = response.result.get("list") or []
        if not items:
            raise UnknownSymbol(f"no Bybit ticker for {category}:{symbol}")
        ticker = parse.parse_ticker(items[0], self._unified(category, symbol), now_ns())
        return replace(ticker, exchange_ts=response.time_ns)

    def order_book(self, venue_symbol: str, depth: int = 50) -> BookSnapshot:
        category, symbol = self.resolve(venue_symbol)
        limit = max(1, min(depth, C.BOOK_MAX_DEPTH[category]))
        response = self._call(
            "GET",
            C.PATH_ORDER_BOOK,
            {"category": category, "symbol": symbol, "limit": limit},
            signed=False,
        )
        return parse.parse_book(response.result, self._unified(category, symbol), now_ns())

    def recent_trades(self, venue_symbol: str, limit: int = 100) -> list[Trade]:
        """GET /v5/market/recent-trade: the latest `limit` trades (spot up to 60, the other
        categories up to 1000), oldest first."""
        category, symbol = self.resolve(venue_symbol)
        limit = max(1, min(limit, C.RECENT_TRADES_MAX[category]))
        response = self._call(
            "GET",
            C.PATH_RECENT_TRADES,
            {"category": category, "symbol": symbol, "limit": limit},
            signed=False,
        )
        unified, received = self._unified(category, symbol), now_ns()
        rows = response.result.get("list") or []
        return [parse.parse_rest_trade(raw, unified, received) for raw in reversed(rows)]

    # ------------------------------------------------------------------ orders

    def place_order(self, request: OrderRequest) -> OrderUpdate:
        """`POST /v5/order/create` (body: encode.order_body). The ack only says Bybit accepted
        the order (it answers before matching), so the update returned is `new` with nothing
        filled, or `untriggered` for a conditional order; fills arrive on the stream. A lost
        answer is settled by looking the order up by `orderLinkId`."""
        category, symbol = self.resolve(request.symbol or request.venue_symbol)
        body = order_body(request, category, symbol)
        try:
            response = self._call("POST", C.PATH_PLACE_ORDER, body)
        except RequestTimeout as exc:  # no answer, or 10000 Server Timeout
            return settle_lost_placement(
                request,
                exc,
                lambda: self._find_order(category, symbol, client_order_id=request.client_order_id),
                venue=BYBIT,
            )
        venue_order_id, client_order_id = parse.parse_order_ack(response.result)
        conditional = request.order_type.is_conditional
        return OrderUpdate(
            venue=BYBIT,
            symbol=self._unified(category, symbol),
            client_order_id=client_order_id or request.client_order_id,
            venue_order_id=venue_order_id,
            side=request.side,
            order_type=request.order_type,
            time_in_force=order_time_in_force(request),
            price=request.price if request.order_type.has_price else None,
            quantity=request.quantity,
            filled_quantity=parse.ZERO,
            average_price=None,
            status=OrderStatus.UNTRIGGERED if conditional else OrderStatus.NEW,
            exchange_ts=response.time_ns,
            receive_ts=now_ns(),
            post_only=request.post_only,
            reduce_only=request.reduce_only,
            trigger_price=request.trigger_price if conditional else None,
            trigger_by=request.trigger_by if conditional else None,
        )

    def _find_order(
        self,
        category: str,
        symbol: str,
        *,
        client_order_id: str | None = None,
        venue_order_id: str | None = None,
    ) -> OrderUpdate | None:
        """`GET /v5/order/realtime` by id: open orders first, then the recent closed ones
        (`openOnly=1`, the last 500 per category)."""
        params = {
            "category": category,
            "symbol": symbol,
            "orderId": venue_order_id,
            "orderLinkId": None if venue_order_id else client_order_id,
        }
        for open_only in (None, 1):
            response = self._call("GET", C.PATH_OPEN_ORDERS, {**params, "openOnly": open_only})
            for item in response.result.get("list") or ():
                return parse.parse_order(item, self._unified(category, item["symbol"]), now_ns())
        return None

    def amend_order(self, request: AmendRequest) -> OrderUpdate:
        """`POST /v5/order/amend` (body: encode.amend_body), then the order as Bybit now
        reports it (the ack carries only the ids; the amendment itself is confirmed on the
        stream): an untriggered conditional order comes back `untriggered` with its new
        trigger."""
        category, symbol = self.resolve(request.symbol or request.venue_symbol)
        response = self._call("POST", C.PATH_AMEND_ORDER, amend_body(request, category, symbol))
        return self._order_after(category, symbol, response)

    def cancel_order(
        self,
        venue_symbol: str,
        *,
        client_order_id: str | None = None,
        venue_order_id: str | None = None,
        conditional: bool = False,
    ) -> OrderUpdate:
        """`POST /v5/order/cancel`: one request. Bybit's answer names the order only
        (`orderId`, `orderLinkId`; "the real-time order status is on the WebSocket", docs v5
        "Cancel Order"), so the order is `pending_cancel` (`base.cancel_accepted`) until its
        final state arrives on the private stream. An untriggered conditional order
        (`conditional`) is cancelled the same way; on spot it needs `orderFilter` StopOrder."""
        if not (client_order_id or venue_order_id):
            raise ValueError("cancel needs a client or venue order id")
        category, symbol = self.resolve(venue_symbol)
        body = {
            "category": category,
            "symbol": symbol,
            "orderId": venue_order_id,
            "orderLinkId": None if venue_order_id else client_order_id,
        }
        if conditional and category == C.SPOT:
            body["orderFilter"] = C.ORDER_FILTER_CONDITIONAL
        response = self._call("POST", C.PATH_CANCEL_ORDER, body)
        order_id, link_id = parse.parse_order_ack(response.result)
        return cancel_accepted(
            BYBIT,
            self._unified(category, symbol),
            client_order_id=link_id or client_order_id,
            venue_order_id=order_id or venue_order_id,
            receive_ts=now_ns(),
        )

    def _order_after(self, category: str, symbol: str, response: Response) -> OrderUpdate:
        """The order after an accepted amend, read back (Bybit's ack carries only ids)."""
        order_id, link_id = parse.parse_order_ack(response.result)
        found = self._find_order(category, symbol, client_order_id=link_id, venue_order_id=order_id)
        if found is None:
            raise OrderNotFound(
                f"Bybit acknowledged order {order_id or link_id} but does not list it",
                venue=BYBIT,
            )
        return found

    def cancel_all(self, venue_symbol: str | None = None) -> int:
        """`POST /v5/order/cancel-all` for one symbol, or for every category (linear and
        inverse per settle coin, as Bybit requires); returns how many orders were cancelled.
        Without `orderFilter` it cancels every kind of order, conditional ones too, except on
        spot, where it cancels plain orders only: spot takes a second call with `orderFilter`
        StopOrder (docs v5 "Cancel All Orders")."""
        if venue_symbol is not None:
            category, symbol = self.resolve(venue_symbol)
            return self._cancel_all({"category": category, "symbol": symbol})
        cancelled = 0
        for params in self._category_scopes():
            cancelled += self._cancel_all(params)
        return cancelled

    def _cancel_all(self, params: dict) -> int:
        response = self._call("POST", C.PATH_CANCEL_ALL, params)
        cancelled = len(response.result.get("list") or ())
        if params["category"] == C.SPOT:
            params = {**params, "orderFilter": C.ORDER_FILTER_CONDITIONAL}
            response = self._call("POST", C.PATH_CANCEL_ALL, params)
            cancelled += len(response.result.get("list") or ())
        return cancelled

    def _category_scopes(self) -> list[dict]:
        """Request scopes covering a whole account: linear and inverse per settle coin (Bybit
        requires a symbol, baseCoin or settleCoin there), spot and option by category."""
        scopes: list[dict] = []
        for category in self.categories:
            if category == C.LINEAR:
                coins = set(C.LINEAR_SETTLE_COINS) | set(self.symbols.settle_coins(C.LINEAR))
                scopes.extend({"category": category, "settleCoin": c} for c in sorted(coins))
            elif category == C.INVERSE:
                if not self._instruments_loaded:
                    self.instruments()
                coins = self.symbols.settle_coins(C.INVERSE)
                scopes.extend({"category": category, "settleCoin": c} for c in coins)
            else:
                scopes.append({"category": category})
        return scopes

    def open_orders(self, venue_symbol: str | None = None) -> list[OrderUpdate]:
        if venue_symbol is not None:
            category, symbol = self.resolve(venue_symbol)
            scopes = [{"category": category, "symbol": symbol}]
        else:
            scopes = self._category_scopes()
        orders = []
        for params in scopes:
            category = params["category"]
            for item, _ in self._pages(C.PATH_OPEN_ORDERS, params):
                symbol = self._unified(category, item["symbol"])
                orders.append(parse.parse_order(item, symbol, now_ns()))
        return orders

    def order_by_client_id(self, venue_symbol: str, client_order_id: str) -> OrderUpdate | None:
        category, symbol = self.resolve(venue_symbol)
        return self._find_order(category, symbol, client_order_id=client_order_id)

    # ------------------------------------------------------------------ fills and account

    def fills(self, *, cursor: str | None = None, venue_symbol: str | None = None) -> FillPage:
        """One page of `GET /v5/execution/list` (newest first, last 7 days by default): the
        trades of the account's orders as fills, its funding, settlement, delivery, ADL and
        liquidation rows as `executions`.

        Bybit pages per category, so the cursor handed back is `category:bybit_cursor`; when a
        category is exhausted the cursor moves on to the next one (`inverse:`), and is None
        after the last. With `venue_symbol`, only that symbol's category is read."""
        if venue_symbol is not None:
            category, symbol = self.resolve(venue_symbol)
            categories = [category]
        else:
            symbol = None
            categories = list(self.categories)
        category, bybit_cursor = categories[0], ""
        if cursor:
            category, _, bybit_cursor = cursor.partition(":")
            if category not in categories:
                raise ValueError(f"cursor {cursor!r} is not a Bybit fills cursor here")
        params = {
            "category": category,
            "symbol": symbol,
            "limit": C.PAGE_LIMIT[C.PATH_FILLS],
            "cursor": bybit_cursor or None,
        }
        response = self._call("GET", C.PATH_FILLS, params)
        received = now_ns()
        fills: list[FillEvent] = []
        executions: list[AccountExecution] = []
        for item in response.result.get("list") or ():
            unified = self._unified(category, item["symbol"])
            if parse.is_trade_execution(item):
                fills.append(parse.parse_fill(item, unified, received))
            elif parse.execution_kind(item) is not None:
                executions.append(parse.parse_account_execution(item, unified, received))
        following = response.result.get("nextPageCursor")
        if following:
            next_cursor: str | None = f"{category}:{following}"
        else:
            index = categories.index(category) + 1
            next_cursor = f"{categories[index]}:" if index < len(categories) else None
        return FillPage(tuple(fills), next_cursor, tuple(executions))

    def positions(self) -> list[PositionUpdate]:
        """`GET /v5/position/list` for linear (per settle coin), inverse and option."""
        found = []
        for params in self._category_scopes():
            category = params["category"]
            if category == C.SPOT:
                continue
            for item, response in self._pages(C.PATH_POSITIONS, params):
                symbol = self._unified(category, item["symbol"])
                position = parse.parse_position(item, symbol, now_ns())
                if not position.exchange_ts:
                    position = replace(position, exchange_ts=response.time_ns)
                found.append(position)
        return found

    def balances(self) -> list[BalanceUpdate]:
        response = self._call("GET", C.PATH_BALANCES, {"accountType": "UNIFIED"})
        balances = parse.parse_balances(response.result.get("list") or [], now_ns())
        return [replace(balance, exchange_ts=response.time_ns) for balance in balances]

    def set_dead_man_switch(self, timeout_seconds: int) -> None:
        """Bybit DCP (`POST /v5/order/disconnected-cancel-all`): cancel every order of the
        account when the private WebSocket (subscribed to `dcp`) is gone for `timeWindow`
        seconds, set per product. The window is [3, 300] s. Bybit has no API call that turns
        DCP off, so 0 sets the longest window (300 s), the least eager setting."""
        if timeout_seconds < 0:
            raise ValueError("timeout_seconds must be >= 0")
        if timeout_seconds == 0:
            log.warning("Bybit DCP cannot be switched off by API; setting the 300 s window")
            window = C.DEAD_MAN_SWITCH_RANGE[1]
        else:
            low, high = C.DEAD_MAN_SWITCH_RANGE
            window = min(max(timeout_seconds, low), high)
        for product in C.DEAD_MAN_SWITCH_PRODUCTS:
            self._call("POST", C.PATH_DEAD_MAN_SWITCH, {"product": product, "timeWindow": window})

    def close(self) -> None:
        self.session.close()
