"""Deribit REST client (JSON-RPC over HTTP): reference data, order entry and account reads.

Reads are `GET {rest_url}/api/v2/{method}?{params}` (docs "JSON-RPC over HTTP"), or
with `http_method="POST"` a JSON-RPC request body POSTed to the same path; order entry
(buy, sell, edit, cancel, cancel-all) is always POSTed (Decimals written as
JSON numbers with their exact digits, and the body covered by the signature); the
answer is a JSON-RPC object with `result` or `error` {code, message, data}. Private methods are
authorized either per request with `Authorization: deri-hmac-sha256 ...` (default: no token
state, signed with the clock-corrected time) or with a bearer token from `public/auth`
(`auth="token"`), renewed with its refresh token before `expires_in` runs out.

Order placement is never retried: when the answer is lost (timeout, broken connection, a
gateway page instead of JSON) the client looks the order up by its `label` (our client order
id) with `private/get_order_state_by_label` and returns it if the venue has it; otherwise it
raises `SubmissionUncertain` with ABSENT (venue answered: no such order) or UNKNOWN (lookup
failed too).
"""

from __future__ import annotations

import itertools
import logging
import threading
from dataclasses import replace
from decimal import Decimal
from urllib.parse import quote

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
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderUpdate,
    PositionUpdate,
    ProtocolError,
    RateLimited,
    RequestTimeout,
    Ticker,
    Trade,
    Venue,
    VenueError,
    now_ns,
)
from exchanges.venues.clock import Clock
from exchanges.venues.deribit import auth, parse
from exchanges.venues.deribit import constants as C
from exchanges.venues.deribit.encode import (
    edit_params,
    edit_takes_price,
    order_body,
    order_method,
)
from exchanges.venues.deribit.symbols import SymbolTable, currency_of
from exchanges.venues.ratelimit import RateLimiter
from exchanges.venues.rest_common import (
    DEFAULT_TIMEOUT,
    penalize,
    pooled_session,
    send,
    settle_lost_placement,
)

log = logging.getLogger(__name__)

DEFAULT_CURRENCIES = ("BTC", "ETH", "USDC", "USDT")
FILLS_PAGE = 1000
FILLS_LOOKBACK_MS = 24 * 3600 * 1000  # non-historical user trades cover the last 24 h
TOKEN_REFRESH_MARGIN = 60.0


def encode_param(value: object) -> str:
    """Query-string text of one parameter: booleans as JSON (`true`), Decimals in plain
    notation (never an exponent), everything else as `str`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def query_string(params: dict) -> str:
    return "&".join(
        f"{key}={quote(encode_param(value), safe='-_.~')}"
        for key, value in params.items()
        if value is not None
    )


def _json_number(value: object) -> orjson.Fragment:
    """Decimals go on the wire as JSON numbers with their exact digits."""
    if isinstance(value, Decimal):
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"cannot encode {type(value).__name__}")


def rpc_request(method: str, params: dict, request_id: int) -> dict:
    """The JSON-RPC 2.0 request object (docs "Request messages"), as sent over WebSocket."""
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


class DeribitRestClient:
    """Synchronous, thread-safe Deribit REST client of one account (or anonymous)."""

    venue = Venue.DERIBIT

    def __init__(
        self,
        endpoints: Endpoints,
        credentials: Credentials | None = None,
        *,
        auth_mode: str = "signature",
        http_method: str = "GET",
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        limiter: RateLimiter | None = None,
        currencies: tuple[str, ...] = DEFAULT_CURRENCIES,
        scope: str | None = None,
        session: requests.Session | None = None,
        clock: Clock | None = None,
    ) -> None:
        if auth_mode not in ("signature", "token"):
            raise ValueError(f"auth_mode must be 'signature' or 'token', not {auth_mode!r}")
        if http_method not in ("GET", "POST"):
            raise ValueError(f"http_method must be 'GET' or 'POST', not {http_method!r}")
        self.http_method = http_method
        self.endpoints = endpoints
        self.base_url = endpoints.rest_url.rstrip("/")
        self.credentials = credentials
        self.auth_mode = auth_mode
        self.timeout = timeout
        self.limiter = (
            limiter
            if limiter is not None
            else RateLimiter(C.RATE_LIMITS, default=C.RATE_LIMIT_DEFAULT_GROUP)
        )
        self.currencies = currencies
        self.scope = scope
        self.clock = clock or Clock()
        self.signer = (
            auth.DeribitSigner(credentials, self.clock, scope=scope) if credentials else None
        )
        self.symbols = SymbolTable()
        self.token: auth.Token | None = None
        self._token_lock = threading.Lock()
        self._ids = itertools.count(1)
        self.http = pooled_session(session)

    # ------------------------------------------------------------------ transport

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, params: dict | None = None, *, private: bool = False):
        """One JSON-RPC call; returns `result` or raises the mapped `VenueError`.

        A signed private call refused as unauthorized may have been signed with a drifted
        clock (signatures are valid for 60 s): the clock is measured again, and a read is sent
        once more; order entry is not (the refusal stands, the next attempt is the caller's)."""
        try:
            return self._call_once(method, params, private=private)
        except AuthenticationError as refused:
            if not private or self.auth_mode != "signature" or self.credentials is None:
                raise
            try:
                self.sync_clock()
            except VenueError:
                raise refused from None
            if method in C.RATE_LIMIT_GROUPS:
                raise
        return self._call_once(method, params, private=private)

    def _call_once(self, method: str, params: dict | None, *, private: bool):
        params = {key: value for key, value in (params or {}).items() if value is not None}
        group = C.RATE_LIMIT_GROUPS.get(method, C.RATE_LIMIT_DEFAULT_GROUP)
        self.limiter.acquire(group)
        headers = {"Accept": "application/json"}
        # Order entry always goes as POST: a GET may be sent again by an HTTP client or proxy
        # that retries "idempotent" requests on a dropped connection, placing an order twice.
        http_method = "POST" if method in C.RATE_LIMIT_GROUPS else self.http_method
        if http_method == "POST":
            uri = f"{C.API_PREFIX}{method}"
            body = orjson.dumps(
                rpc_request(method, params, next(self._ids)), default=_json_number
            ).decode()
            headers["Content-Type"] = "application/json"
        else:
            query = query_string(params)
            uri = f"{C.API_PREFIX}{method}" + (f"?{query}" if query else "")
            body = ""
        if private:
            headers.update(self._authorization(http_method, uri, body))
        response = send(
            self.http,
            http_method,
            self.base_url + uri,
            venue=self.venue,
            what=method,
            timeout=self.timeout,
            data=body.encode() if body else None,
            headers=headers,
        )
        return self._result(method, group, response)

    def _result(self, method: str, group: str, response: requests.Response):
        try:
            body = parse.loads(response.content)
        except ProtocolError:
            if response.status_code == 429:
                raise penalize(
                    self.limiter,
                    group,
                    RateLimited(f"{method}: HTTP 429", venue=self.venue, code=429),
                    C.RATE_LIMIT_PENALTY_SECONDS,
                ) from None
            if response.status_code >= 500:
                raise RequestTimeout(
                    f"{method}: HTTP {response.status_code} without a JSON-RPC answer",
                    venue=self.venue,
                    code=response.status_code,
                ) from None
            raise ProtocolError(
                f"{method}: HTTP {response.status_code}: {response.text[:200]}",
                venue=self.venue,
                code=response.status_code,
            ) from None
        if not isinstance(body, dict):
            raise ProtocolError(f"{method}: not a JSON-RPC object", venue=self.venue)
        error = body.get("error")
        if error is not None:
            exc = parse.parse_error(error)
            if isinstance(exc, RateLimited):
                penalize(self.limiter, group, exc, C.RATE_LIMIT_PENALTY_SECONDS)
            elif isinstance(exc, AuthenticationError):
                self.token = None
            raise exc
        if "result" not in body:
            raise ProtocolError(f"{method}: answer without result", venue=self.venue)
        return body["result"]

    def _authorization(self, method: str, uri: str, body: str = "") -> dict[str, str]:
        if self.signer is None:
            raise AuthenticationError("private method without credentials", venue=self.venue)
        if self.auth_mode == "signature":
            return self.signer.rest_headers(method, uri, body)
        return {"Authorization": f"bearer {self.authenticate().access_token}"}

    def authenticate(self, *, force: bool = False) -> auth.Token:
        """A valid bearer token: the current one, a refreshed one, or a new one from
        `public/auth` with `client_signature` (the secret is never sent)."""
        token = self.token
        if token is not None and not force and not token.expires_within(TOKEN_REFRESH_MARGIN):
            return token
        with self._token_lock:
            if self.token is not token and self.token is not None and not force:
                return self.token  # another thread renewed it meanwhile
            return self._renew(token)

    def _renew(self, token: auth.Token | None) -> auth.Token:
        if self.signer is None:
            raise AuthenticationError("no credentials", venue=self.venue)
        result = None
        if token is not None and token.refresh_token:
            try:
                result = self.call(C.METHOD_AUTH, auth.refresh_params(token.refresh_token))
            except AuthenticationError:
                result = None
        if result is None:
            result = self.call(C.METHOD_AUTH, self.signer.ws_login())
        self.token = auth.Token.from_result(result)
        return self.token

    # ------------------------------------------------------------------ time

    def server_time(self) -> int:
        return parse.parse_server_time(self.call(C.METHOD_GET_TIME))

    def sync_clock(self) -> int:
        """Measure the offset to Deribit's clock (`public/get_time`) and sign with it."""
        return self.clock.sync(self.server_time)

    # ------------------------------------------------------------------ market data

    def instruments(self) -> list[InstrumentInfo]:
        infos = parse.parse_instruments(self.call(C.METHOD_GET_INSTRUMENTS, {"currency": "any"}))
        for info in infos:
            self.symbols.add(info)
        return infos

    def ticker(self, venue_symbol: str) -> Ticker:
        result = self.call(C.METHOD_TICKER, {"instrument_name": venue_symbol})
        return parse.parse_ticker(result, self.symbols.unified(result["instrument_name"]), now_ns())

    def order_book(self, venue_symbol: str, depth: int = 50) -> BookSnapshot:
        result = self.call(
            C.METHOD_GET_ORDER_BOOK, {"instrument_name": venue_symbol, "depth": depth}
        )
        return parse.parse_book(result, self.symbols.unified(result["instrument_name"]), now_ns())

    def recent_trades(self, venue_symbol: str, limit: int = 100) -> list[Trade]:
        """public/get_last_trades_by_instrument: the latest `limit` (up to 1000) trades,
        oldest first."""
        count = max(1, min(limit, C.LAST_TRADES_MAX))
        result = self.call(
            C.METHOD_LAST_TRADES,
            {"instrument_name": venue_symbol, "count": count, "sorting": "desc"},
        )
        symbol, received = self.symbols.unified(venue_symbol), now_ns()
        return [parse.parse_trade(raw, symbol, received) for raw in reversed(result["trades"])]

    # ------------------------------------------------------------------ orders

    def _order(self, item: dict) -> OrderUpdate:
        return parse.parse_order(item, self.symbols.unified(item["instrument_name"]), now_ns())

    def place_order(self, request: OrderRequest) -> OrderUpdate:
        """private/buy or private/sell (parameters: encode.order_body); a trigger order comes
        back `untriggered` under its trigger-order id."""
        params = order_body(request)
        method = order_method(request)
        try:
            result = self.call(method, params, private=True)
        except RequestTimeout as exc:
            return settle_lost_placement(
                request,
                exc,
                lambda: self.order_by_client_id(request.venue_symbol, request.client_order_id),
                venue=self.venue,
            )
        return self._order(result["order"])

    def order_by_client_id(self, venue_symbol: str, client_order_id: str) -> OrderUpdate | None:
        try:
            result = self.call(
                C.METHOD_GET_ORDER_STATE_BY_LABEL,
                {"currency": currency_of(venue_symbol), "label": client_order_id},
                private=True,
            )
        except OrderNotFound:
            return None
        matches = [
            item
            for item in result or ()
            if item.get("instrument_name") == venue_symbol and item.get("label") == client_order_id
        ]
        if not matches:
            return None
        latest = max(matches, key=lambda item: item.get("last_update_timestamp") or 0)
        return self._order(latest)

    def order_by_id(self, venue_order_id: str) -> OrderUpdate:
        return self._order(
            self.call(C.METHOD_GET_ORDER_STATE, {"order_id": venue_order_id}, private=True)
        )

    def amend_order(self, request: AmendRequest) -> OrderUpdate:
        """private/edit by order id, else private/edit_by_label (parameters:
        encode.edit_params). Deribit's edit needs the amount (and the price of a priced
        order), so an unchanged one is read first (private/get_order_state, which takes a
        trigger-order id too). An untriggered trigger order (`conditional`) is edited by its
        trigger-order id with its `trigger_price` and comes back `untriggered`. Once it has
        fired, the order it placed has an id of its own: it is edited by label (our client
        order id), as `cancel_order` cancels it."""
        if (
            request.conditional is None
            and request.client_order_id
            and parse.is_trigger_order_id(request.venue_order_id or "")
        ):
            request = replace(request, venue_order_id=None)
        quantity, price = request.quantity, request.price
        if quantity is None or (price is None and edit_takes_price(request)):
            current = self._current(request)
            quantity = current.quantity if quantity is None else quantity
            price = current.price if price is None else price
        params = edit_params(request, quantity, price)
        if request.venue_order_id:
            result = self.call(
                C.METHOD_EDIT, {"order_id": request.venue_order_id, **params}, private=True
            )
        elif request.client_order_id:
            result = self.call(
                C.METHOD_EDIT_BY_LABEL,
                {
                    "label": request.client_order_id,
                    "instrument_name": request.venue_symbol,
                    **params,
                },
                private=True,
            )
        else:
            raise InvalidOrder("amend needs a client or venue order id", venue=self.venue)
        return self._order(result["order"])

    def _current(self, request: AmendRequest) -> OrderUpdate:
        if request.venue_order_id:
            return self.order_by_id(request.venue_order_id)
        if request.client_order_id:
            found = self.order_by_client_id(request.venue_symbol, request.client_order_id)
            if found is not None:
                return found
        raise OrderNotFound(
            f"no order {request.client_order_id or request.venue_order_id}", venue=self.venue
        )

    def cancel_order(
        self,
        venue_symbol: str,
        *,
        client_order_id: str | None = None,
        venue_order_id: str | None = None,
        conditional: bool = False,
    ) -> OrderUpdate:
        """private/cancel by order id, else private/cancel_by_label. An untriggered trigger
        order (`conditional`) is cancelled by its trigger-order id. Once it has fired the
        order it placed has an id of its own, so a trigger-order id given without
        `conditional` cancels by label (our client order id) when there is one."""
        fired = bool(
            not conditional
            and client_order_id
            and venue_order_id
            and parse.is_trigger_order_id(venue_order_id)
        )
        if venue_order_id and not fired:
            return self._order(
                self.call(C.METHOD_CANCEL, {"order_id": venue_order_id}, private=True)
            )
        if not client_order_id:
            raise InvalidOrder("cancel needs a client or venue order id", venue=self.venue)
        cancelled = self.call(
            C.METHOD_CANCEL_BY_LABEL,
            {"label": client_order_id, "currency": currency_of(venue_symbol)},
            private=True,
        )
        order = self.order_by_client_id(venue_symbol, client_order_id)
        if order is None or not cancelled:
            raise OrderNotFound(
                f"no open order labelled {client_order_id}", venue=self.venue, code=10004
            )
        return order

    def cancel_all(self, venue_symbol: str | None = None) -> int:
        if venue_symbol:
            result = self.call(
                C.METHOD_CANCEL_ALL_BY_INSTRUMENT, {"instrument_name": venue_symbol}, private=True
            )
        else:
            result = self.call(C.METHOD_CANCEL_ALL, private=True)
        return int(result)

    def open_orders(self, venue_symbol: str | None = None) -> list[OrderUpdate]:
        if venue_symbol:
            result = self.call(
                C.METHOD_GET_OPEN_ORDERS_BY_INSTRUMENT,
                {"instrument_name": venue_symbol},
                private=True,
            )
        else:
            result = self.call(C.METHOD_GET_OPEN_ORDERS, private=True)
        return [self._order(item) for item in result]

    # ------------------------------------------------------------------ fills

    def fills(self, *, cursor: str | None = None, venue_symbol: str | None = None) -> FillPage:
        """Our fills from the cursor on, oldest first.

        The cursor is `"{ms}:{id,id,...}"`: the timestamp of the last fill returned and the
        trade ids at that timestamp already returned (Deribit's `start_timestamp` is
        inclusive). Without a cursor the page starts 24 h back (non-historical trades)."""
        start_ms, seen = _read_cursor(cursor)
        if start_ms is None:
            start_ms = self.clock.now_ms() - FILLS_LOOKBACK_MS
        base = {"start_timestamp": start_ms, "count": FILLS_PAGE, "sorting": "asc"}
        if venue_symbol:
            requests_ = [
                (C.METHOD_GET_USER_TRADES_BY_INSTRUMENT, {"instrument_name": venue_symbol})
            ]
        else:
            requests_ = [
                (C.METHOD_GET_USER_TRADES_BY_CURRENCY, {"currency": c}) for c in self.currencies
            ]
        items: list[dict] = []
        cutoff: int | None = None
        for method, params in requests_:
            result = self.call(method, {**params, **base}, private=True)
            trades = result.get("trades", []) if isinstance(result, dict) else result
            items.extend(trades)
            if isinstance(result, dict) and result.get("has_more") and trades:
                last = int(trades[-1]["timestamp"])
                cutoff = last if cutoff is None else min(cutoff, last)
        fills: list[FillEvent] = []
        executions: list[AccountExecution] = []
        receive_ts = now_ns()
        last_ms, at_last = start_ms, set(seen)
        for item in sorted(items, key=lambda t: (int(t["timestamp"]), str(t["trade_id"]))):
            ts = int(item["timestamp"])
            if cutoff is not None and ts > cutoff:
                continue
            if ts == start_ms and str(item["trade_id"]) in seen:
                continue
            if ts != last_ms:
                last_ms, at_last = ts, set()
            at_last.add(str(item["trade_id"]))
            symbol = self.symbols.unified(item["instrument_name"])
            if parse.execution_kind(item) is not None:  # our side liquidated: no fill of ours
                executions.append(parse.parse_account_execution(item, symbol, receive_ts))
            else:
                fills.append(parse.parse_fill(item, symbol, receive_ts))
        return FillPage(tuple(fills), _write_cursor(last_ms, at_last), tuple(executions))

    # ------------------------------------------------------------------ account

    def positions(self) -> list[PositionUpdate]:
        result = self.call(C.METHOD_GET_POSITIONS, {"currency": "any"}, private=True)
        receive_ts = now_ns()
        return [
            parse.parse_position(item, self.symbols.unified(item["instrument_name"]), receive_ts)
            for item in result
        ]

    def balances(self) -> list[BalanceUpdate]:
        result = self.call(C.METHOD_GET_ACCOUNT_SUMMARIES, private=True)
        summaries = result.get("summaries", []) if isinstance(result, dict) else result
        receive_ts = now_ns()
        return [balance for item in summaries for balance in parse.parse_balances(item, receive_ts)]

    def set_dead_man_switch(self, timeout_seconds: int) -> None:
        """Deribit's dead-man switch is cancel-on-disconnect: with scope `account` the
        account's orders are cancelled when its connections drop (or miss heartbeats); it has
        no timer, so any `timeout_seconds` > 0 turns it on and 0 turns it off."""
        method = (
            C.METHOD_ENABLE_CANCEL_ON_DISCONNECT
            if timeout_seconds > 0
            else C.METHOD_DISABLE_CANCEL_ON_DISCONNECT
        )
        self.call(method, {"scope": "account"}, private=True)


def _read_cursor(cursor: str | None) -> tuple[int | None, frozenset[str]]:
    if not cursor:
        return None, frozenset()
    ms, _, ids = cursor.partition(":")
    try:
        return int(ms), frozenset(filter(None, ids.split(",")))
    except ValueError:
        raise ValueError(f"not a Deribit fills cursor: {cursor!r}") from None


def _write_cursor(ms: int, ids: frozenset[str] | set[str]) -> str:
    return f"{ms}:{','.join(sorted(ids))}"
