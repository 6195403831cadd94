"""Smart order routing, the thin service: gather the inputs, let `orders.routing` decide, send
the children through the order path (`orders.services.submit_order`) and record it all on a
`RoutedOrder`.

Inputs, per account that may route (the caller's subset of the accounts the user may see):

- the account itself: enabled, allowed to trade, its kill switch (global or its own);
- its exchange's public connector (`marketdata.models.ConnectorStatus`): up when its state is
  connected or subscribed and its heartbeat is younger than `settings.BOOK_STALE_SECONDS`; a
  killed connector process stops its heartbeat, so it is left out within that many seconds
  and taken back as soon as a new one writes its row;
- the venue's latest valid book from the cache (`marketdata.feed`; a book found invalid is
  withdrawn there), stale when its exchange time is older than `settings.BOOK_STALE_SECONDS`;
- the taker fee of the venue's market (`marketdata.aggregation.taker_fees`, the defaults with
  `settings.ARBITRAGE_TAKER_FEES` on top, the same rates the consolidated book uses);
- the available balance or margin and the leverage as the risk checks see them
  (`risk.context.exposure_for`), and the order quantity and notional limits in force
  (`risk.context.matching_limits`), turned into a cap in base currency at the child's price.

The other risk limits (position, open orders, price collar, daily loss) are the order path's
own: a child refused by them (`RiskRejected`), by the request checks (`ValidationError`), or rejected by the venue is re-routed once to what the
other venues have left (`routing.reroute`), and the decision says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues import quantities
from exchanges.venues.base import Side, StreamKind, StreamState, VenueError
from marketdata import aggregation
from marketdata.feed import book_channel, latest_key
from marketdata.models import ConnectorStatus
from orders import ingest, metrics, routing, services
from orders.choices import OrderStatus
from orders.ids import new_client_order_id
from orders.models import Order, RoutedOrder, RoutedStatus
from orders.state import OPEN_STATUSES
from orders.venue import client_for, venue_name
from risk.context import exposure_for, limits_of, matching_limits

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
UP_STATES = {StreamState.CONNECTED, StreamState.AUTHENTICATED, StreamState.SUBSCRIBED}
NOT_LISTED = "not_listed"


@dataclass(frozen=True, slots=True)
class Gathered:
    """What the decision is made from: candidates, the accounts left out already, and the
    inputs as recorded in the decision."""

    candidates: list[routing.Candidate]
    excluded: list[routing.Excluded]
    inputs: list[dict[str, Any]]
    instruments: dict[str, Instrument]
    accounts: dict[str, ExchangeAccount]


def text(value: Decimal | None) -> str | None:
    """A Decimal as the decision records it: plain notation, no trailing zeros."""
    return None if value is None else format(value.normalize(), "f")


def _age(moment: str | None, now: datetime) -> float | None:
    parsed = parse_datetime(moment) if moment else None
    return None if parsed is None else (now - parsed).total_seconds()


def connector_up(status: ConnectorStatus | None, now: datetime) -> bool:
    """A public stream that says it is connected and whose heartbeat is recent."""
    if status is None or status.state not in UP_STATES or status.last_heartbeat_at is None:
        return False
    return (now - status.last_heartbeat_at).total_seconds() <= settings.BOOK_STALE_SECONDS


def _levels(rows: Iterable[Iterable[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(price), Decimal(size)) for price, size in rows]


def gather(
    symbol: str, side: Side, accounts: Iterable[ExchangeAccount], quantity: Decimal
) -> Gathered:
    """Each account's facts (module docstring), the eligible ones as routing candidates with
    the book side the order takes in base currency, as deep as `quantity` reaches; caps are added by `route_order` once the bound is
    known."""
    now = timezone.now()
    accounts = list(accounts)
    statuses = {
        s.exchange_id: s
        for s in ConnectorStatus.objects.filter(
            exchange__in={a.exchange_id for a in accounts},
            account__isnull=True,
            stream=StreamKind.PUBLIC,
        )
    }
    instruments = {
        i.exchange_id: i
        for i in Instrument.objects.select_related("exchange").filter(
            exchange__in={a.exchange_id for a in accounts}, symbol=symbol, active=True
        )
    }
    gathered = Gathered([], [], [], {}, {})
    for account in sorted(accounts, key=lambda a: a.pk):
        key = str(account.pk)
        venue = account.exchange.venue
        instrument = instruments.get(account.exchange_id)
        entry: dict[str, Any] = {"account": account.pk, "venue": venue}
        gathered.inputs.append(entry)
        if instrument is None:
            entry["excluded"] = NOT_LISTED
            gathered.excluded.append(routing.Excluded(key, venue, NOT_LISTED))
            continue
        info = instrument.info()
        book = cache.get(latest_key(book_channel(venue, symbol)))
        age = _age((book or {}).get("exchange_time") or (book or {}).get("received_at"), now)
        reason = routing.exclusion_reason(
            account_enabled=account.enabled,
            can_trade=account.can_trade,
            kill_switch=_kill_switch(account),
            connector_up=connector_up(statuses.get(account.exchange_id), now),
            book_present=book is not None,
            book_age_seconds=age,
            stale_after_seconds=settings.BOOK_STALE_SECONDS,
        )
        fees = aggregation.taker_fees(info.kind, settings.ARBITRAGE_TAKER_FEES)
        fee = fees.get(info.venue)
        entry.update(venue_symbol=info.venue_symbol, taker_fee=text(fee), book_age_seconds=age)
        if book is not None:
            entry["book"] = {k: book.get(k) for k in ("sequence", "exchange_time", "bids", "asks")}
        if reason is None and fee is None:
            reason = "no_taker_fee"
        if reason is not None:
            entry["excluded"] = reason
            gathered.excluded.append(routing.Excluded(key, venue, reason))
            continue
        raw = _levels(book["asks"] if side is Side.BUY else book["bids"])
        levels = routing.levels_in_base(info, raw, quantity)
        gathered.candidates.append(routing.Candidate(key, info, levels, fee))
        gathered.instruments[key] = instrument
        gathered.accounts[key] = account
    return gathered


def _kill_switch(account: ExchangeAccount) -> bool:
    from risk.models import KillSwitch

    return KillSwitch.objects.is_engaged(account)


def _with_caps(
    gathered: Gathered, side: Side, at: Decimal
) -> tuple[list[routing.Candidate], dict[str, dict]]:
    """Each candidate capped by what its account may trade at its child's price (`at` on the
    venue's tick, the price the risk checks count the child at): the funds its available
    balance or margin covers, and the order quantity and notional limits in force."""
    capped, funds = [], {}
    for candidate in gathered.candidates:
        account = gathered.accounts[candidate.account]
        instrument = gathered.instruments[candidate.account]
        price = routing.child_price(candidate.info, side, at)
        exposure = exposure_for(account, instrument, side, price=price, with_daily_pnl=False)
        funded = routing.funded_cap(
            candidate.info, side, exposure.available, price, exposure.leverage
        )
        limited = None
        for row in matching_limits(account, instrument):
            limits = limits_of(row)
            cap = routing.limit_cap(
                candidate.info,
                max_order_quantity=limits.max_order_quantity,
                max_order_notional=limits.max_order_notional,
                price=price,
            )
            if cap is not None and (limited is None or cap < limited):
                limited = cap
        caps = [c for c in (funded, limited) if c is not None]
        cap = min(caps) if caps else None
        funds[candidate.account] = {
            "available": text(exposure.available),
            "leverage": text(exposure.leverage),
            "funded_cap": text(funded),
            "limit_cap": text(limited),
            "cap_base": text(cap),
        }
        capped.append(_capped(candidate, cap))
    return capped, funds


def _capped(candidate: routing.Candidate, cap: Decimal | None) -> routing.Candidate:
    return routing.Candidate(
        candidate.account, candidate.info, candidate.levels, candidate.taker_fee, cap
    )


# --------------------------------------------------------------------------- the decision as data


def child_data(child: routing.Child) -> dict[str, Any]:
    return {
        "account": int(child.account),
        "venue": str(child.venue),
        "venue_symbol": child.venue_symbol,
        "base_quantity": text(child.base_quantity),
        "quantity": text(child.quantity),
        "price": text(child.price),
        "time_in_force": child.time_in_force,
        "expected_quantity": text(child.expected_quantity),
        "expected_price": text(child.expected_price),
        "expected_net_price": text(child.expected_net_price),
        "taker_fee": text(child.taker_fee),
    }


def plan_data(plan: routing.Plan) -> dict[str, Any]:
    return {
        "reference_price": text(plan.reference),
        "bound_price": text(plan.bound),
        "children": [child_data(c) for c in plan.children],
        "routed": text(plan.routed),
        "unrouted": text(plan.unrouted),
        "unrouted_reason": plan.unrouted_reason,
        "expected_price": text(plan.expected_price),
        "expected_net_price": text(plan.expected_net_price),
        "excluded": [
            {
                "account": int(e.account),
                "venue": str(e.venue),
                "reason": e.reason,
                "detail": e.detail,
            }
            for e in plan.excluded
        ],
    }


# --------------------------------------------------------------------------- routing


def route_order(
    *,
    symbol: str,
    side: Side | str,
    quantity: Decimal,
    accounts: Iterable[ExchangeAccount],
    order_type: str = routing.MARKET,
    price: Decimal | None = None,
    max_slippage_bps: Decimal,
    actor: str = "",
) -> RoutedOrder:
    """Decide, record and send one routed order (module docstring); the parent is written
    with its decision before any child is sent, so that every child sent has a parent."""
    side = Side(side)
    started = time.perf_counter()
    gathered = gather(symbol, side, accounts, Decimal(quantity))
    try:
        first = routing.plan_route(
            side=side,
            quantity=quantity,
            candidates=gathered.candidates,
            max_slippage_bps=max_slippage_bps,
            order_type=order_type,
            limit_price=price,
            excluded=gathered.excluded,
        )
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    funds: dict[str, dict] = {}
    candidates = gathered.candidates
    plan = first
    if first.bound is not None:  # caps need the bound: decide again with the funds known
        at = price if order_type == routing.LIMIT else first.bound
        candidates, funds = _with_caps(gathered, side, at)
        plan = routing.plan_route(
            side=side,
            quantity=quantity,
            candidates=candidates,
            max_slippage_bps=max_slippage_bps,
            order_type=order_type,
            limit_price=price,
            excluded=gathered.excluded,
            reference=first.reference,
        )
    for account, figures in funds.items():
        next(i for i in gathered.inputs if str(i["account"]) == account)["funds"] = figures
    ids = [new_client_order_id() for _ in plan.children]
    planned = plan_data(plan)
    for entry, client_order_id in zip(planned["children"], ids, strict=True):
        entry["client_order_id"] = client_order_id  # findable should sending be cut short
    decision = {
        "inputs": gathered.inputs,
        "plan": planned,
        "best_single_venue": _best_single(side, quantity, candidates, plan),
        "reroutes": [],
    }
    metrics.observe_routing(time.perf_counter() - started, plan)
    with transaction.atomic():
        parent = RoutedOrder.objects.create(
            symbol=symbol,
            side=side,
            order_type=order_type,
            quantity=quantity,
            price=price,
            max_slippage_bps=max_slippage_bps,
            status=RoutedStatus.OPEN if plan.children else RoutedStatus.REJECTED,
            decision=decision,
            created_by=actor,
        )
    for child, client_order_id in zip(plan.children, ids, strict=True):
        _, refused = _send_child(parent, child, actor, client_order_id)
        if refused:
            _reroute(parent, plan, child, refused, candidates, actor)
    settle_children(parent)
    return summarize(parent)


def _best_single(side, quantity, candidates, plan) -> dict[str, Any] | None:
    if plan.bound is None:
        return None
    alone = routing.single_venue_estimates(side, quantity, candidates, plan.bound)
    full = [(net, account) for account, (base, net) in alone.items() if base == quantity]
    if not full:
        return None
    net, account = min(full) if side is Side.BUY else max(full)
    return {"account": int(account), "net_price": text(net)}


def _send_child(
    parent: RoutedOrder, child: routing.Child, actor: str, client_order_id: str | None = None
) -> tuple[Order | None, str]:
    """Send one child through the order path and tie it to `parent`; the reason it was
    refused or rejected, "" when the venue took it. `client_order_id`: the one the decision
    recorded for it before sending."""
    account = ExchangeAccount.objects.select_related("exchange").get(pk=int(child.account))
    try:
        done = services.submit_order(
            account=account,
            symbol=parent.symbol,
            side=parent.side,
            order_type="limit",
            quantity=child.quantity,
            price=child.price,
            time_in_force=child.time_in_force,
            client_order_id=client_order_id or new_client_order_id(),
            actor=actor,
            parent=parent,
        )
    except services.RiskRejected as exc:
        return None, f"risk_rejected {exc.code}: {exc.reason}"
    except ValidationError as exc:
        return None, "invalid: " + "; ".join(exc.messages)
    order = done.order
    if order.status == OrderStatus.REJECTED:
        return order, f"rejected by the venue: {order.reject_reason}"
    return order, ""


def _reroute(parent, plan, child, refused, candidates, actor) -> None:
    """Re-route a refused child once; its replacements are sent and never re-routed again."""
    again = routing.reroute(
        plan,
        child,
        candidates,
        max_slippage_bps=parent.max_slippage_bps,
        limit_price=parent.price,
    )
    sent = []
    for replacement in again.children:
        client_order_id = new_client_order_id()
        _, why = _send_child(parent, replacement, actor, client_order_id)
        sent.append({**child_data(replacement), "client_order_id": client_order_id, "refused": why})
    entry = {"rejected": {**child_data(child), "reason": refused}, "plan": plan_data(again)}
    entry["sent"] = sent
    metrics.count_reroute(str(child.venue))
    with transaction.atomic():
        locked = RoutedOrder.objects.select_for_update().get(pk=parent.pk)
        locked.decision["reroutes"].append(entry)
        locked.save(update_fields=["decision", "updated_at"])
    parent.decision = locked.decision


# --------------------------------------------------------------------------- fills


def settle_children(parent: RoutedOrder) -> None:
    """Ask the venue how each child its answer left open is now (OKX and Bybit answer a
    placement with its ids only; the rest comes by the private stream): an IOC child ends at
    once, so its state now is final, and a GTC child's shows what it took at once, so that
    the parent shows what it achieved when it answers; later fills of a resting child come by
    the private stream. Applied through `orders.ingest`, like any venue message, so the
    stream's push of the same state later changes nothing (and an end whose stamp is older
    than the acknowledgement's, as OKX's can be, still ends the order: `orders.ingest`).
    """
    for order in parent.children.select_related("account__exchange", "instrument__exchange"):
        if order.status not in OPEN_STATUSES:
            continue
        client = client_for(order.account)
        try:
            update = client.order_by_client_id(
                venue_name(client, order.instrument), order.client_order_id
            )
        except VenueError:
            logger.warning("routed #%s: could not look up child %s", parent.pk, order)
            continue
        if update is None:
            continue
        with transaction.atomic():
            applied = ingest.apply_order_update(order.account, update)
            ingest.attach_fills(applied.order or order)


def summarize(parent: RoutedOrder) -> RoutedOrder:
    """Bring the parent's fill figures and status up to its children's (each child's filled
    quantity in base currency at its own average price) and save them when they moved."""
    filled = notional = ZERO
    any_open = False
    children = list(parent.children.select_related("instrument__exchange"))
    for order in children:
        any_open = any_open or order.status in OPEN_STATUSES
        if order.filled_quantity > 0 and order.average_fill_price:
            info = order.instrument.info()
            base = quantities.base_quantity(info, order.filled_quantity, order.average_fill_price)
            filled += base
            notional += base * order.average_fill_price
    average = (notional / filled).quantize(routing.PRICE_QUANTUM) if filled > 0 else None
    if any_open:
        status = RoutedStatus.OPEN
    elif filled >= parent.quantity:
        status = RoutedStatus.FILLED
    elif filled > 0:
        status = RoutedStatus.PARTIALLY_FILLED
    else:
        status = RoutedStatus.REJECTED
    if (status, filled, average) != (parent.status, parent.filled_quantity, parent.average_price):
        parent.status, parent.filled_quantity, parent.average_price = status, filled, average
        parent.save(update_fields=["status", "filled_quantity", "average_price", "updated_at"])
    parent.child_orders = children
    return parent


def quantity_in_base(order: Order) -> Decimal:
    """A child's quantity in base currency (at its limit price for inverse instruments)."""
    info = order.instrument.info()
    price = order.average_fill_price or order.price
    return quantities.base_quantity(info, order.quantity, price)
