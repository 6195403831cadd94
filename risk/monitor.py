"""The scheduled risk checks (`risk.tasks.run_risk_checks` on Celery beat, `manage.py
risk_check` by hand): what the pre-trade checks cannot see because nothing is being ordered.

- Daily loss: each trading account's PnL since midnight UTC (`risk.context.daily_pnl`: the
  day's realized PnL plus the positions' unrealized, in USD) against every enabled limit with
  `max_daily_loss` whose scope covers the account. A breach is a critical `daily_loss` event;
  when the limit has `trip_kill_switch`, the account's kill switch is engaged through
  `risk.kill_switch.engage` (which cancels its open orders on the venue), unless it already is.
- Positions: an open position beyond the `max_position` of a covering limit (a quantity on an
  instrument limit, a USD notional on a global or account limit) is a critical
  `position_limit` event, engaging the account's kill switch on a `trip_kill_switch` limit.
- Far orders: an open limit order priced more than `settings.RISK_FAR_ORDER_PCT` percent from
  its instrument's reference price is a `far_order` warning.
- Orphaned protection: a reduce-only stop or take-profit order still waiting for its trigger
  on a position that has traded since it was placed and is now flat (the other leg of a stop
  loss / take profit pair, on a venue that keeps it, or an order left by hand): it is
  canceled, so it cannot close a later position at a stale level, and noted as an
  `orphaned_order` info event.
- Connectors: a running stream (`marketdata.models.ConnectorStatus`) that is not streaming,
  or whose last message is older than `settings.RISK_STALE_SECONDS`, is a `stale_data` event.

A finding that stays true is not written again every run: the same finding (its `finding`
key in the event's details) is recorded at most once per `settings.RISK_FINDING_REPEAT_SECONDS`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from exchanges.models import ExchangeAccount, Instrument
from exchanges.venues.base import InstrumentKind, StreamState, VenueError
from exchanges.venues.quantities import notional
from marketdata.models import ConnectorStatus
from orders import metrics, services
from orders.choices import CONDITIONAL_ORDER_TYPES, OrderStatus
from orders.models import Fill, Order
from orders.state import OPEN_STATUSES
from portfolio.models import Position
from risk import kill_switch
from risk.breaker import move_pct
from risk.checks import figure
from risk.choices import RiskEventKind, Severity
from risk.context import USD_LIKE, daily_pnl, reference_price
from risk.models import KillSwitch, RiskEvent, RiskLimit

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
ACTOR = "risk monitor"
STREAMING = frozenset({StreamState.CONNECTED, StreamState.AUTHENTICATED, StreamState.SUBSCRIBED})


def record_finding(
    *,
    kind: str,
    severity: str,
    finding: str,
    message: str,
    now: datetime,
    account: ExchangeAccount | None = None,
    details: dict | None = None,
) -> RiskEvent | None:
    """Write the finding as a risk event, unless the same finding was written within the
    repeat interval (then None)."""
    since = now - timedelta(seconds=settings.RISK_FINDING_REPEAT_SECONDS)
    if RiskEvent.objects.filter(kind=kind, details__finding=finding, created_at__gt=since).exists():
        return None
    event = RiskEvent.objects.create(
        kind=kind,
        severity=severity,
        account=account,
        message=message,
        details={"finding": finding, **(details or {})},
        created_at=now,
    )
    metrics.count_risk_finding(kind, severity)
    return event


def trading_accounts() -> list[ExchangeAccount]:
    return kill_switch.accounts_in_scope(None)


def account_daily_pnl(account: ExchangeAccount) -> Decimal:
    """The account's PnL since midnight UTC in USD, as the pre-trade daily loss check counts
    it: coin-settled amounts are valued at the first coin-settled position's reference price;
    without one, only USD-like amounts count (as in `risk.context.daily_pnl`)."""
    positions = list(Position.objects.filter(account=account).select_related("instrument"))
    coin = next((p for p in positions if p.instrument.settle == p.instrument.base), None)
    if coin is not None:
        return daily_pnl(
            account, positions, coin.instrument, reference_price(coin.instrument, coin)
        )
    valuing = Instrument.objects.filter(exchange=account.exchange).order_by("id").first()
    return daily_pnl(account, positions, valuing, None) if valuing is not None else ZERO


def check_daily_loss(now: datetime) -> list[RiskEvent]:
    limits = list(
        RiskLimit.objects.filter(enabled=True, max_daily_loss__isnull=False).order_by("id")
    )
    if not limits:
        return []
    events = []
    for account in trading_accounts():
        covering = [row for row in limits if row.account_id in (None, account.pk)]
        if not covering:
            continue
        pnl = account_daily_pnl(account)
        for row in covering:
            if -pnl < row.max_daily_loss:
                continue
            event = record_finding(
                kind=RiskEventKind.DAILY_LOSS,
                severity=Severity.CRITICAL,
                finding=f"daily_loss:{row.pk}:{account.pk}:{now:%Y-%m-%d}",
                account=account,
                message=(
                    f"{account}: today's loss {figure(-pnl)} USD has reached the limit "
                    f"'{row.name}' of {figure(row.max_daily_loss)} USD"
                ),
                details={
                    "limit": row.pk,
                    "daily_pnl": str(pnl),
                    "limit_value": str(row.max_daily_loss),
                },
                now=now,
            )
            if event is not None:
                events.append(event)
            if row.trip_kill_switch:
                engage_for(
                    account, f"daily loss limit '{row.name}' breached: loss {figure(-pnl)} USD"
                )
    return events


def engage_for(account: ExchangeAccount, reason: str) -> None:
    """Engage the account's kill switch (cancelling its open orders), unless it already is."""
    if KillSwitch.objects.is_engaged(account):
        return
    logger.error("risk monitor: engaging the kill switch of %s: %s", account, reason)
    kill_switch.engage(reason=reason, actor=ACTOR, account=account)


def position_over(row: RiskLimit, position: Position) -> str | None:
    """Why `position` is beyond `row.max_position`, None when it is not (or cannot be told):
    a limit on an instrument counts the quantity, a global or account limit the notional in
    USD at the reference price (USD-quoted instruments only; options are not valued here)."""
    size = abs(position.quantity)
    instrument = position.instrument
    if row.instrument_id is not None:
        if size > row.max_position:
            return (
                f"position {figure(position.quantity)} is beyond the limit of "
                f"{figure(row.max_position)}"
            )
        return None
    if instrument.quote not in USD_LIKE or instrument.kind == InstrumentKind.OPTION:
        return None
    price = reference_price(instrument, position)
    if not price:
        return None
    value = notional(instrument.info(), size, price)
    if value > row.max_position:
        return (
            f"position worth {figure(value)} USD is beyond the limit of "
            f"{figure(row.max_position)} USD"
        )
    return None


def _covers(row: RiskLimit, position: Position) -> bool:
    return row.account_id in (None, position.account_id) and row.instrument_id in (
        None,
        position.instrument_id,
    )


def check_positions(now: datetime) -> list[RiskEvent]:
    """Open positions beyond the `max_position` of an enabled limit covering them."""
    limits = list(RiskLimit.objects.filter(enabled=True, max_position__isnull=False).order_by("id"))
    if not limits:
        return []
    positions = (
        Position.objects.exclude(quantity=0)
        .select_related("instrument__exchange", "account__exchange")
        .order_by("id")
    )
    events = []
    for position in positions:
        for row in (row for row in limits if _covers(row, position)):
            why = position_over(row, position)
            if why is None:
                continue
            event = record_finding(
                kind=RiskEventKind.POSITION_LIMIT,
                severity=Severity.CRITICAL,
                finding=f"position:{row.pk}:{position.pk}",
                account=position.account,
                message=f"{position.account} {position.instrument.symbol}: {why} ('{row.name}')",
                details={
                    "limit": row.pk,
                    "position": position.pk,
                    "quantity": str(position.quantity),
                },
                now=now,
            )
            if event is not None:
                events.append(event)
            if row.trip_kill_switch:
                engage_for(position.account, f"position limit '{row.name}' breached: {why}")
    return events


def check_far_orders(now: datetime) -> list[RiskEvent]:
    """Open limit orders priced more than `settings.RISK_FAR_ORDER_PCT` percent from their
    instrument's reference price (options are left out: their marks move too much, and so
    are stop and take-profit orders waiting for their trigger: far from the market is where
    they belong)."""
    limit = Decimal(str(settings.RISK_FAR_ORDER_PCT))
    orders = (
        Order.objects.filter(status__in=OPEN_STATUSES, price__isnull=False)
        .exclude(instrument__kind=InstrumentKind.OPTION)
        .exclude(order_type__in=sorted(CONDITIONAL_ORDER_TYPES), triggered_at__isnull=True)
        .select_related("instrument__exchange", "account__exchange")
        .order_by("id")
    )
    events = []
    for order in orders:
        reference = reference_price(order.instrument)
        if not reference:
            continue
        distance = abs(move_pct(reference, order.price)).quantize(Decimal("0.01"))
        if distance <= limit:
            continue
        event = record_finding(
            kind=RiskEventKind.FAR_ORDER,
            severity=Severity.WARNING,
            finding=f"far_order:{order.pk}",
            account=order.account,
            message=(
                f"order {order.client_order_id} on {order.instrument.symbol} at "
                f"{figure(order.price)} is {figure(distance)}% from the reference "
                f"{figure(reference)} (more than {figure(limit)}%)"
            ),
            details={"order": order.pk, "reference_price": str(reference)},
            now=now,
        )
        if event is not None:
            events.append(event)
    return events


def check_connectors(now: datetime) -> list[RiskEvent]:
    """Streams that are not streaming, or silent for longer than the stale threshold."""
    stale_before = now - timedelta(seconds=settings.RISK_STALE_SECONDS)
    rows = (
        ConnectorStatus.objects.exclude(state=StreamState.STOPPED)
        .filter(
            ~Q(state__in=list(STREAMING))
            | Q(last_message_at__isnull=True)
            | Q(last_message_at__lt=stale_before)
        )
        .select_related("exchange", "account")
        .order_by("id")
    )
    events = []
    for row in rows:
        if row.state in STREAMING and row.last_message_at is not None:
            problem = f"no message since {row.last_message_at:%Y-%m-%d %H:%M:%S} UTC"
        elif row.state in STREAMING:
            problem = "no message yet"
        else:
            problem = f"state {row.state}"
        scope = row.exchange.slug if row.account_id is None else str(row.account)
        event = record_finding(
            kind=RiskEventKind.STALE_DATA,
            severity=Severity.WARNING,
            finding=f"connector:{row.pk}:{row.state}",
            account=row.account,
            message=f"{row.stream} stream of {scope}: {problem}",
            details={"connector": row.pk, "state": row.state},
            now=now,
        )
        if event is not None:
            events.append(event)
    return events


def check_orphaned_protection(now: datetime) -> list[RiskEvent]:
    """Cancel reduce-only conditional orders waiting on a position closed since they were
    placed (module doc)."""
    waiting = Order.objects.filter(
        order_type__in=sorted(CONDITIONAL_ORDER_TYPES),
        reduce_only=True,
        status=OrderStatus.UNTRIGGERED,
    ).select_related("instrument", "account__exchange")
    events = []
    for order in waiting.order_by("id"):
        position = Position.objects.filter(
            account_id=order.account_id, instrument_id=order.instrument_id
        ).first()
        traded_since = Fill.objects.filter(
            account_id=order.account_id,
            instrument_id=order.instrument_id,
            executed_at__gt=order.created_at,
        ).exists()
        if position is None or position.quantity != 0 or not traded_since:
            continue
        try:
            services.cancel_order(order, actor="risk monitor")
        except (services.OrderNotOpen, VenueError) as exc:
            logger.warning("orphaned order %s not canceled: %s", order.client_order_id, exc)
            continue
        event = record_finding(
            kind=RiskEventKind.ORPHANED_ORDER,
            severity=Severity.INFO,
            finding=f"orphaned_order:{order.pk}",
            account=order.account,
            message=(
                f"{order.order_type} {order.client_order_id} on {order.instrument.symbol} "
                "canceled: its position has closed"
            ),
            now=now,
            details={"order": order.pk, "trigger_price": str(order.trigger_price)},
        )
        if event is not None:
            events.append(event)
    return events


def run_checks_once(now: datetime | None = None) -> list[RiskEvent]:
    """Run every scheduled check once; returns the risk events written this run."""
    now = now or timezone.now()
    return (
        check_daily_loss(now)
        + check_positions(now)
        + check_far_orders(now)
        + check_orphaned_protection(now)
        + check_connectors(now)
    )
