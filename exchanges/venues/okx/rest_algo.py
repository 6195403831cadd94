"""OKX conditional orders over REST: stop loss / take profit as algo orders (docs-v5 "Order Book
Trading > Algo Trading"), mixed into `OkxRestClient`.

- Place: POST /api/v5/trade/order-algo, `ordType` "conditional", a stop with
  `slTriggerPx`/`slOrdPx`/`slTriggerPxType`, a take profit with the `tp*` fields; the order
  price "-1" executes at market; `algoClOrdId` = our client order id; the answer names the
  `algoId` (our venue order id for it).
- Cancel: POST /api/v5/trade/cancel-algos, a list of at most 10 `{instId, algoId}` (the docs
  take `algoClOrdId` too, `algoId` winning when both are sent).
- Amend a waiting one: POST /api/v5/trade/amend-algos ("Amend algo order"), `{instId, algoId |
  algoClOrdId}` with `newSz`, and the stop's `newSlTriggerPx` + `newSlOrdPx` or the take
  profit's `newTpTriggerPx` + `newTpOrdPx` (the order price "-1" = at market); the answer names
  only the ids, so the algo is read back (GET order-algo) for the order after the change.
- Untriggered list: GET orders-algo-pending?ordType=conditional, newest first, paged by
  `algoId` (`after`), 100 a page. Details: GET order-algo by `algoId` or `algoClOrdId`; a
  fired algo names the `ordId` of the order it placed.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from exchanges.venues.base import (
    AmendRequest,
    InstrumentKind,
    InvalidOrder,
    OrderNotFound,
    OrderRequest,
    OrderStatus,
    OrderUpdate,
    Venue,
    VenueError,
    cancel_accepted,
    now_ns,
)
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.parse import algo_of, parse_algo_order, parse_order, with_algo
from exchanges.venues.okx.symbols import kind_of

log = logging.getLogger(__name__)


def _plain(value: Decimal) -> str:
    return format(value, "f")


def algo_body(request: OrderRequest, td_mode: str) -> dict:
    """The order-algo body of a conditional `OrderRequest`."""
    if request.trigger_price is None:
        raise InvalidOrder("a conditional order needs a trigger price", venue=Venue.OKX)
    prefix = "sl" if request.order_type.is_stop else "tp"
    if request.order_type.has_price:
        if request.price is None:
            raise InvalidOrder("a stop/take-profit limit order needs a price", venue=Venue.OKX)
        order_price = _plain(request.price)
    else:
        order_price = C.ALGO_MARKET_PRICE
    body: dict = {
        "instId": request.venue_symbol,
        "tdMode": td_mode,
        "side": request.side.value,
        "ordType": C.ALGO_ORD_TYPE,
        "sz": _plain(request.quantity),
        "algoClOrdId": request.client_order_id,
        f"{prefix}TriggerPx": _plain(request.trigger_price),
        f"{prefix}OrdPx": order_price,
        f"{prefix}TriggerPxType": C.TRIGGER_PRICE_NAMES[request.trigger_by],
    }
    if request.reduce_only:
        body["reduceOnly"] = True  # a JSON boolean on this endpoint ("Place algo order")
    if kind_of(request.venue_symbol) is InstrumentKind.SPOT and not request.order_type.has_price:
        body["tgtCcy"] = "base_ccy"  # a spot market buy is otherwise sized in quote currency
    return body


def amend_algo_body(request: AmendRequest) -> dict:
    """The amend-algos body of an `AmendRequest` for a waiting conditional order
    (`request.conditional` its type): the trigger and the order price are sent as a pair (the
    gateway always fills the trigger, and the price of a limit kind)."""
    kind = request.conditional
    if kind is None:
        raise InvalidOrder("not a conditional order", venue=Venue.OKX)
    body: dict = {"instId": request.venue_symbol}
    if request.venue_order_id:
        body["algoId"] = request.venue_order_id
    elif request.client_order_id:
        body["algoClOrdId"] = request.client_order_id
    else:
        raise InvalidOrder("amend needs an order id or client order id", venue=Venue.OKX)
    if request.quantity is not None:
        body["newSz"] = _plain(request.quantity)
    if request.trigger_price is None:
        raise InvalidOrder("a conditional amend needs its trigger price", venue=Venue.OKX)
    if kind.has_price:
        if request.price is None:
            raise InvalidOrder("a stop/take-profit limit amend needs its price", venue=Venue.OKX)
        order_price = _plain(request.price)
    elif request.price is not None:
        raise InvalidOrder(f"a {kind} order has no price to amend", venue=Venue.OKX)
    else:
        order_price = C.ALGO_MARKET_PRICE
    prefix = "newSl" if kind.is_stop else "newTp"
    body[f"{prefix}TriggerPx"] = _plain(request.trigger_price)
    body[f"{prefix}OrdPx"] = order_price
    return body


class OkxAlgoRest:
    """The algo-order half of `OkxRestClient` (module doc)."""

    def _amend_algo(self, request: AmendRequest) -> OrderUpdate:
        """Amend a waiting conditional order; returns it as OKX holds it after the change."""
        body = amend_algo_body(request)
        envelope = self._request(
            "POST", C.PATH_AMEND_ALGOS, body=body, group="amend_algos", signed=True
        )
        item = self._item(envelope, "amend_algos")
        algo_id = item.get("algoId") or request.venue_order_id
        raw = self._algo_details(algo_id, None if algo_id else request.client_order_id)
        if raw is None or raw.get("instId") != request.venue_symbol:
            raise OrderNotFound(
                f"algo {algo_id or request.client_order_id} not found after its amend",
                venue=Venue.OKX,
                code="51603",
            )
        return self._algo_now(raw, request.venue_symbol)

    def _place_algo(self, request: OrderRequest) -> OrderUpdate:
        body = algo_body(request, self._td_mode(request.venue_symbol))
        envelope = self._request(
            "POST", C.PATH_ORDER_ALGO, body=body, group="place_algo", signed=True
        )
        item = self._item(envelope, "place_algo")
        update = OrderUpdate(
            venue=Venue.OKX,
            symbol=request.symbol,
            client_order_id=request.client_order_id,
            venue_order_id=item.get("algoId") or None,
            side=request.side,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            price=request.price if request.order_type.has_price else None,
            quantity=request.quantity,
            filled_quantity=Decimal(0),
            average_price=None,
            status=OrderStatus.UNTRIGGERED,
            exchange_ts=0,
            receive_ts=now_ns(),
            reduce_only=request.reduce_only,
            trigger_price=request.trigger_price,
            trigger_by=request.trigger_by,
        )
        if update.venue_order_id:
            self.algos.remember(
                algo_of({**body, "algoId": update.venue_order_id}),
            )
        return update

    def _cancel_algo(
        self, venue_symbol: str, client_order_id: str | None, venue_order_id: str | None
    ) -> OrderUpdate:
        """Cancel an untriggered algo. One the venue refuses may have fired meanwhile: if its
        details name the order it placed, that order is canceled instead."""
        one = {"instId": venue_symbol}
        if venue_order_id:
            one["algoId"] = venue_order_id
        elif client_order_id:
            one["algoClOrdId"] = client_order_id
        else:
            raise InvalidOrder("cancel needs an order id or client order id", venue=Venue.OKX)
        envelope = self._request(
            "POST", C.PATH_CANCEL_ALGOS, body=[one], group="cancel_algos", signed=True
        )
        try:
            item = self._item(envelope, "cancel_algos")
        except InvalidOrder as refused:
            ord_id = self._placed_order_id_or_none(venue_order_id, client_order_id)
            if ord_id is None:
                raise refused from None
            return self._cancel_plain(venue_symbol, ord_id, client_order_id, venue_order_id)
        return cancel_accepted(
            Venue.OKX,
            self.symbols.unified(venue_symbol),
            client_order_id=client_order_id,
            venue_order_id=item.get("algoId") or venue_order_id,
            receive_ts=now_ns(),
        )

    def _cancel_plain(
        self,
        venue_symbol: str,
        ord_id: str,
        client_order_id: str | None,
        algo_id: str | None,
    ) -> OrderUpdate:
        """Cancel the plain order `ord_id` a fired algo placed; reported under the algo's ids."""
        body = {"instId": venue_symbol, "ordId": ord_id}
        envelope = self._request(
            "POST", C.PATH_CANCEL_ORDER, body=body, group="cancel", signed=True
        )
        self._item(envelope, "cancel")
        return cancel_accepted(
            Venue.OKX,
            self.symbols.unified(venue_symbol),
            client_order_id=client_order_id,
            venue_order_id=algo_id or self.algos.algo_id_of(ord_id),
            receive_ts=now_ns(),
        )

    def _placed_order_id_or_none(
        self, algo_id: str | None, algo_client_id: str | None
    ) -> str | None:
        """The `ordId` of the order a fired algo placed, from "Get algo order details"; None
        when there is none or the lookup fails (the caller then reports its own refusal)."""
        try:
            raw = self._algo_details(algo_id, algo_client_id)
        except VenueError as exc:
            log.info("okx: algo lookup of %s failed: %s", algo_id or algo_client_id, exc)
            return None
        if raw is None or not raw.get("ordId"):
            return None
        self.algos.remember(algo_of(raw), raw["ordId"])
        return raw["ordId"]

    def _algo_details(self, algo_id: str | None, algo_client_id: str | None) -> dict | None:
        """GET order-algo; None when the venue knows no such algo."""
        params = {"algoId": algo_id} if algo_id else {"algoClOrdId": algo_client_id or ""}
        try:
            envelope = self._request(
                "GET", C.PATH_ORDER_ALGO, params=params, group="algo_details", signed=True
            )
            data = self._data(envelope, "algo_details")
        except (OrderNotFound, InvalidOrder) as exc:
            if exc.code in C.ORDER_NOT_FOUND_CODES or exc.code == "51000":
                return None
            raise
        if not data or data[0].get("ordType") != C.ALGO_ORD_TYPE:
            return None
        return data[0]

    def _pending_algos(self, venue_symbol: str | None) -> list[dict]:
        out: list[dict] = []
        params: dict[str, str] = {"ordType": C.ALGO_ORD_TYPE, "limit": str(C.PAGE_LIMIT)}
        if venue_symbol:
            params["instId"] = venue_symbol
        while True:
            envelope = self._request(
                "GET", C.PATH_ALGOS_PENDING, params=params, group="algos_pending", signed=True
            )
            page = self._data(envelope, "algos_pending")
            out.extend(page)
            if len(page) < C.PAGE_LIMIT:
                break
            params = {**params, "after": page[-1]["algoId"]}
        for raw in out:
            self.algos.remember(algo_of(raw))
        return out

    def _open_algos(self, venue_symbol: str | None) -> list[OrderUpdate]:
        received = now_ns()
        return [
            parse_algo_order(raw, self.symbols.unified(raw["instId"]), received)
            for raw in self._pending_algos(venue_symbol)
        ]

    def _cancel_all_algos(self, venue_symbol: str | None) -> int:
        """Cancel every untriggered algo (of one instrument if given), 10 a request."""
        algos = self._pending_algos(venue_symbol)
        canceled = 0
        for start in range(0, len(algos), C.CANCEL_ALGOS_MAX):
            batch = algos[start : start + C.CANCEL_ALGOS_MAX]
            body = [{"instId": a["instId"], "algoId": a["algoId"]} for a in batch]
            envelope = self._request(
                "POST", C.PATH_CANCEL_ALGOS, body=body, group="cancel_algos", signed=True
            )
            for item in envelope["data"]:
                if str(item.get("sCode", "0")) == "0":
                    canceled += 1
                else:
                    log.info(
                        "okx cancel-all: algo %s not canceled: %s %s",
                        item.get("algoId"),
                        item.get("sCode"),
                        item.get("sMsg"),
                    )
        return canceled

    def _algo_by_client_id(self, venue_symbol: str, client_order_id: str) -> OrderUpdate | None:
        """A conditional order by its `algoClOrdId`: the algo while it waits or when it ended
        unfired; once fired, the order it placed (under the algo's ids), which tells fills."""
        raw = self._algo_details(None, client_order_id)
        if raw is None or raw.get("instId") != venue_symbol:
            return None
        return self._algo_now(raw, venue_symbol)

    def _algo_now(self, raw: dict, venue_symbol: str) -> OrderUpdate:
        """The conditional order an algo-details answer `raw` describes: the algo itself, or
        once fired the order it placed (read by its `ordId`, under the algo's ids)."""
        algo = algo_of(raw)
        self.algos.remember(algo, raw.get("ordId") or None)
        symbol = self.symbols.unified(venue_symbol)
        if raw.get("ordId") and raw.get("state") == "effective":
            envelope = self._request(
                "GET",
                C.PATH_ORDER,
                params={"instId": venue_symbol, "ordId": raw["ordId"]},
                group="order_details",
                signed=True,
            )
            data = self._data(envelope, "order_details")
            if data:
                return with_algo(parse_order(data[0], symbol, now_ns()), algo)
        return parse_algo_order(raw, symbol, now_ns())
