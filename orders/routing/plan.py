"""The routing decision itself: the walk over every eligible venue's levels, the children it
makes, and the re-route of a refused child (pure, see `orders.routing`)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, localcontext

from exchanges.venues import quantities
from exchanges.venues.base import InstrumentInfo, PriceLevel, Side, Venue
from orders.routing.inputs import (
    BELOW_MINIMUM,
    EMPTY_SIDE,
    EXACT,
    LIMIT,
    MARKET,
    NO_FUNDS,
    REJECTED,
    ZERO,
    average,
    child_price,
    meets_minimum,
    net_price,
    slippage_bound,
    venue_quantity,
)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One account that may take part: `levels` is the side of its venue's book the order takes
    (asks for a buy, bids for a sell), in base currency, best first; `cap` the most base
    quantity it may trade (funds, risk limits), None when nothing limits it."""

    account: str
    info: InstrumentInfo
    levels: tuple[PriceLevel, ...]
    taker_fee: Decimal
    cap: Decimal | None = None

    @property
    def venue(self) -> Venue:
        return self.info.venue


@dataclass(frozen=True, slots=True)
class Excluded:
    """An account left out of the decision and why (a reason code above, and the figures)."""

    account: str
    venue: Venue
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Child:
    """One child order of the plan: `base_quantity` in base currency, `quantity` in the venue's
    order unit (what is sent), at limit `price`; `expected_price` the volume-weighted price of
    the `expected_quantity` (base) it is planned to take of the visible levels (less than
    `base_quantity` for a limit order's resting part), `expected_net_price` the same net of the
    taker fee."""

    account: str
    venue: Venue
    venue_symbol: str
    base_quantity: Decimal
    quantity: Decimal
    price: Decimal
    time_in_force: str
    expected_quantity: Decimal
    expected_price: Decimal | None
    expected_net_price: Decimal | None
    taker_fee: Decimal


@dataclass(frozen=True, slots=True)
class Plan:
    """The routing decision: the children, best net price first; `routed` the base quantity
    they carry, `unrouted` what no venue could take (and `unrouted_reason`); `reference` the
    best raw price seen and `bound` the worst price any child may fill at."""

    side: Side
    quantity: Decimal
    order_type: str
    children: tuple[Child, ...]
    excluded: tuple[Excluded, ...]
    reference: Decimal | None
    bound: Decimal | None
    routed: Decimal
    unrouted: Decimal
    unrouted_reason: str
    expected_price: Decimal | None
    expected_net_price: Decimal | None


# --------------------------------------------------------------------------- the walk


def _reference(side: Side, candidates: Sequence[Candidate]) -> Decimal | None:
    tops = [c.levels[0][0] for c in candidates if c.levels]
    if not tops:
        return None
    return min(tops) if side is Side.BUY else max(tops)


def _walk(
    side: Side, quantity: Decimal, candidates: Sequence[Candidate], bound: Decimal
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """Take the best net levels within `bound` across `candidates` up to `quantity` and each
    candidate's cap: per candidate (base taken, raw notional, net notional).

    Each candidate's levels are best first, so its net prices are too (one fee per
    candidate): the candidates are merged lazily (a heap of each one's next level), and the
    walk stops as soon as the quantity is taken, never looking at the deep levels it does not
    need. Ties go to the candidate given first, then to the shallower level."""
    buy = side is Side.BUY
    taken = [[ZERO, ZERO, ZERO] for _ in candidates]
    heap: list[tuple[Decimal, int, int]] = []

    def push(index: int, depth: int) -> None:
        levels = candidates[index].levels
        while depth < len(levels):
            price, size = levels[depth]
            if price > bound if buy else price < bound:
                return  # every deeper level is further still
            if size > 0:
                net = net_price(side, price, candidates[index].taker_fee)
                heapq.heappush(heap, (net if buy else -net, index, depth))
                return
            depth += 1

    for index in range(len(candidates)):
        push(index, 0)
    left = quantity
    with localcontext(EXACT):
        while heap and left > 0:
            key, index, depth = heapq.heappop(heap)
            price, size = candidates[index].levels[depth]
            cap = candidates[index].cap
            room = size if cap is None else min(size, cap - taken[index][0])
            amount = min(room, left)
            if amount > 0:
                taken[index][0] += amount
                taken[index][1] += amount * price
                taken[index][2] += amount * (key if buy else -key)
                left -= amount
            if cap is None or taken[index][0] < cap:
                push(index, depth + 1)
    return [(t[0], t[1], t[2]) for t in taken]


def plan_route(
    *,
    side: Side | str,
    quantity: Decimal,
    candidates: Iterable[Candidate],
    max_slippage_bps: Decimal,
    order_type: str = MARKET,
    limit_price: Decimal | None = None,
    excluded: Iterable[Excluded] = (),
    reference: Decimal | None = None,
) -> Plan:
    """Split `quantity` (base currency) of a `side` order across `candidates` for the best
    total net price (module docstring). `excluded` are accounts the caller already left out;
    the plan adds those it leaves out itself (empty book side, no funds, share below the
    venue's minimum). `reference`: the price the slippage bound is measured from, when not
    the best price of these candidates (a re-route keeps its parent's bound)."""
    side = Side(side)
    quantity = Decimal(quantity)
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    if order_type not in (MARKET, LIMIT):
        raise ValueError(f"order type must be {MARKET!r} or {LIMIT!r}, got {order_type!r}")
    if order_type == LIMIT and (limit_price is None or limit_price <= 0):
        raise ValueError("a limit order needs a positive limit price")
    if Decimal(max_slippage_bps) < 0:
        raise ValueError(f"max_slippage_bps must not be negative, got {max_slippage_bps}")
    left_out = list(excluded)
    live: list[Candidate] = []
    for candidate in candidates:
        if not candidate.levels:
            left_out.append(Excluded(candidate.account, candidate.venue, EMPTY_SIDE))
        elif candidate.cap is not None and candidate.cap <= 0:
            left_out.append(Excluded(candidate.account, candidate.venue, NO_FUNDS))
        else:
            live.append(candidate)
    if reference is None:
        reference = _reference(side, live)
    if reference is None or not live:
        return _empty(side, quantity, order_type, left_out, "no eligible venue")
    limit = limit_price if order_type == LIMIT else None
    bound = slippage_bound(side, reference, Decimal(max_slippage_bps), limit)
    while True:
        children, dropped = _children(side, quantity, live, bound, order_type, limit)
        if not dropped:
            break
        left_out.extend(dropped)
        gone = {d.account for d in dropped}
        live = [c for c in live if c.account not in gone]
    return _plan(side, quantity, order_type, children, left_out, reference, bound)


def _children(
    side: Side,
    quantity: Decimal,
    live: Sequence[Candidate],
    bound: Decimal,
    order_type: str,
    limit: Decimal | None,
) -> tuple[list[Child], list[Excluded]]:
    walked = _walk(side, quantity, live, bound)
    bases = [base for base, _, _ in walked]
    if order_type == LIMIT and live:
        _rest_remainder(side, quantity, live, bases)
    children, dropped = [], []
    for candidate, base, (seen, raw, net) in zip(live, bases, walked, strict=True):
        if base <= 0:
            continue
        info = candidate.info
        price = child_price(info, side, limit if limit is not None else bound)
        expected = average(raw, seen) or price
        size = venue_quantity(info, base, expected)
        if not meets_minimum(info, size, price):
            detail = f"{base} base is {size} on {info.venue_symbol}, minimum {info.min_size}"
            dropped.append(Excluded(candidate.account, info.venue, BELOW_MINIMUM, detail))
            continue
        sent_base = quantities.base_quantity(info, size, expected)
        children.append(
            Child(
                account=candidate.account,
                venue=info.venue,
                venue_symbol=info.venue_symbol,
                base_quantity=min(sent_base, base),
                quantity=size,
                price=price,
                time_in_force="gtc" if order_type == LIMIT else "ioc",
                expected_quantity=min(seen, sent_base),
                expected_price=average(raw, seen),
                expected_net_price=average(net, seen),
                taker_fee=candidate.taker_fee,
            )
        )
    children.sort(key=lambda c: (c.expected_net_price is None, _order_key(side, c)))
    return children, dropped


def _order_key(side: Side, child: Child) -> tuple:
    net = child.expected_net_price or ZERO
    return (net if side is Side.BUY else -net, child.account)


def _rest_remainder(
    side: Side, quantity: Decimal, live: Sequence[Candidate], bases: list[Decimal]
) -> None:
    """A limit order's part not executable now rests on the venue with the best net top of
    book that can still fund it (raw and net notionals are left: it is not expected to fill
    now)."""
    left = quantity - sum(bases, ZERO)
    order = sorted(
        range(len(live)),
        key=lambda i: (
            net_price(side, live[i].levels[0][0], live[i].taker_fee)
            * (1 if side is Side.BUY else -1),
            i,
        ),
    )
    for index in order:
        if left <= 0:
            return
        cap = live[index].cap
        room = left if cap is None else min(left, cap - bases[index])
        if room > 0:
            bases[index] += room
            left -= room


def _empty(side, quantity, order_type, left_out, reason) -> Plan:
    return Plan(
        side=side,
        quantity=quantity,
        order_type=order_type,
        children=(),
        excluded=tuple(left_out),
        reference=None,
        bound=None,
        routed=ZERO,
        unrouted=quantity,
        unrouted_reason=reason,
        expected_price=None,
        expected_net_price=None,
    )


def _plan(side, quantity, order_type, children, left_out, reference, bound) -> Plan:
    routed = sum((c.base_quantity for c in children), ZERO)
    priced = [c for c in children if c.expected_price is not None]
    with localcontext(EXACT):
        # expected prices cover the part planned against visible levels
        size = sum((c.expected_quantity for c in priced), ZERO)
        raw = sum((c.expected_quantity * c.expected_price for c in priced), ZERO)
        net = sum((c.expected_quantity * c.expected_net_price for c in priced), ZERO)
    unrouted = quantity - routed
    reason = ""
    if unrouted > 0:
        reason = (
            "not enough liquidity within the slippage bound, funds or lot sizes"
            if children
            else "no venue could take any of it"
        )
    return Plan(
        side=side,
        quantity=quantity,
        order_type=order_type,
        children=tuple(children),
        excluded=tuple(left_out),
        reference=reference,
        bound=bound,
        routed=routed,
        unrouted=unrouted,
        unrouted_reason=reason,
        expected_price=average(raw, size),
        expected_net_price=average(net, size),
    )


# --------------------------------------------------------------------------- failover


def consume(candidate: Candidate, base: Decimal) -> Candidate:
    """`candidate` after `base` of its best levels was planned for another child: those levels
    are no longer there to take and its cap is lower by as much."""
    levels, left = [], base
    for price, size in candidate.levels:
        if left >= size:
            left -= size
            continue
        levels.append((price, size - left))
        left = ZERO
    cap = None if candidate.cap is None else max(candidate.cap - base, ZERO)
    return replace(candidate, levels=tuple(levels), cap=cap)


def reroute(
    plan: Plan,
    rejected: Child,
    candidates: Iterable[Candidate],
    *,
    max_slippage_bps: Decimal,
    limit_price: Decimal | None = None,
) -> Plan:
    """The plan for a child the venue rejected: its base quantity routed once more across the
    other candidates, whose levels and caps are reduced by what the plan's other children
    already take, within the parent's slippage bound (measured from the same reference). The
    rejected account is left out, reason `rejected_by_venue`."""
    planned = {c.account: c.base_quantity for c in plan.children if c.account != rejected.account}
    others = [
        consume(c, planned.get(c.account, ZERO))
        for c in candidates
        if c.account != rejected.account
    ]
    return plan_route(
        side=plan.side,
        quantity=rejected.base_quantity,
        candidates=others,
        max_slippage_bps=max_slippage_bps,
        order_type=plan.order_type,
        limit_price=limit_price,
        excluded=[Excluded(rejected.account, rejected.venue, REJECTED)],
        reference=plan.reference,
    )


def single_venue_estimates(
    side: Side | str, quantity: Decimal, candidates: Iterable[Candidate], bound: Decimal
) -> dict[str, tuple[Decimal, Decimal | None]]:
    """For each candidate alone: the base quantity its visible levels within `bound` and cap
    can take of `quantity`, and the net average price of that, for comparing a split with the
    best single venue."""
    side = Side(side)
    out = {}
    for candidate in candidates:
        ((base, _, net),) = _walk(side, quantity, [candidate], bound)
        out[candidate.account] = (base, average(net, base))
    return out
