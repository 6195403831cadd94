"""Account updates (orders, fills, positions, balances, risk events) to every web process's
`/ws/stream`.

`publish_account_event(account_id, kind, data)` sends one row, built by `order_data`,
`fill_data`, `position_data`, `balance_data` or `risk.notify.event_data`, on the private
channel `<kind>.<account_id>` (`orders.7`, `fills.7`, `risk_events.7`, ...). It travels the market data path: one `feed.batch` message to the
channel layer group `marketdata.feed.FEED_GROUP`, which each web process's hub
(`marketdata/stream/hub.py`) has joined once and fans out to the clients reading that channel;
never a group send per client.

Call it once the change is committed (`transaction.on_commit`, or `publish_after_commit`), so
that no client hears of a change a rollback undid. Where it runs:

- in the connector process (`run_connectors`, or embedded in `run_gateway`), the service
  registers its `FeedPublisher` (`use_publisher`): the update is queued there, from any thread,
  and leaves in order with the market data batches;
- anywhere else (a web process's order entry, a worker), the batch is sent to the layer
  directly.

An update's data is `{"account": <id>, "<kind>": [row, ...]}`; a snapshot has the same shape.
Rows carry the REST API's field names, decimals as strings with the API's 18 places and times
as ISO 8601 UTC. A failure to publish is logged: the database holds the truth, and a client
reading the stream after a gap gets it again in the snapshot of its next subscription.
"""

from __future__ import annotations

import asyncio
import decimal
import logging
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from marketdata.feed import BATCH_TYPE, FEED_GROUP

log = logging.getLogger(__name__)

ORDERS, FILLS, POSITIONS, BALANCES = "orders", "fills", "positions", "balances"
RISK_EVENTS = "risk_events"  # one account's risk events (`risk.notify`)
ACCOUNT_KINDS = (ORDERS, FILLS, POSITIONS, BALANCES, RISK_EVENTS)
# what identifies a row within its channel: conflation keeps the newest row per key
ROW_KEYS = {
    ORDERS: "id",
    FILLS: "id",
    POSITIONS: "symbol",
    BALANCES: "currency",
    RISK_EVENTS: "id",
}
# rows that never change once made: a snapshot's row is never sent again as an update
IMMUTABLE_KINDS = frozenset({FILLS, RISK_EVENTS})

_PLACES = Decimal(10) ** -18
_CONTEXT = decimal.Context(prec=60)


def account_channel(kind: str, account_id: int) -> str:
    """`orders.7`: the private channel of one kind of one account."""
    if kind not in ACCOUNT_KINDS:
        raise ValueError(
            f"unknown account channel kind {kind!r}; one of {', '.join(ACCOUNT_KINDS)}"
        )
    return f"{kind}.{account_id}"


def account_message(kind: str, account_id: int, rows: list[dict]) -> dict[str, Any]:
    """The data of one update or snapshot of `<kind>.<account_id>`."""
    return {"account": account_id, kind: rows}


# --------------------------------------------------------------------------- row shapes


def money(value: Decimal | None) -> str | None:
    """A Decimal as the REST API writes it: a string with 18 decimal places."""
    if value is None:
        return None
    return format(_CONTEXT.quantize(Decimal(value), _PLACES), "f")


def when(moment: datetime | None) -> str | None:
    """An aware datetime as the REST API writes it (ISO 8601, UTC as `Z`)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def order_data(order: Any) -> dict[str, Any]:
    """One `orders.Order` as the orders channel and the orders API carry it."""
    return {
        "id": order.pk,
        "account": order.account_id,
        "symbol": order.instrument.symbol,
        "side": order.side,
        "type": order.order_type,
        "quantity": money(order.quantity),
        "price": money(order.price),
        "time_in_force": order.time_in_force,
        "post_only": order.post_only,
        "reduce_only": order.reduce_only,
        "trigger_price": money(order.trigger_price),
        "trigger_by": order.trigger_by or None,
        "triggered_at": when(order.triggered_at),
        "client_order_id": order.client_order_id,
        "venue_order_id": order.venue_order_id,
        "status": order.status,
        "filled_quantity": money(order.filled_quantity),
        "average_fill_price": money(order.average_fill_price),
        "reject_reason": order.reject_reason,
        "created_at": when(order.created_at),
        "updated_at": when(order.updated_at),
    }


def fill_data(fill: Any) -> dict[str, Any]:
    """One `orders.Fill` (`order` is the order's id, null until it is matched)."""
    return {
        "id": fill.pk,
        "account": fill.account_id,
        "order": fill.order_id,
        "symbol": fill.instrument.symbol,
        "trade_id": fill.trade_id,
        "side": fill.side,
        "price": money(fill.price),
        "quantity": money(fill.quantity),
        "fee": money(fill.fee),
        "fee_currency": fill.fee_currency,
        "liquidity": fill.liquidity,
        "executed_at": when(fill.executed_at),
    }


def position_data(position: Any) -> dict[str, Any]:
    """One `portfolio.Position` (`average_price` is the entry price; PnL in `settle_currency`)."""
    instrument = position.instrument
    return {
        "account": position.account_id,
        "symbol": instrument.symbol,
        "quantity": money(position.quantity),
        "average_price": money(position.entry_price),
        "realized_pnl": money(position.realized_pnl),
        "unrealized_pnl": money(position.unrealized_pnl),
        "settle_currency": instrument.settle,
        "mark_price": money(position.mark_price),
        "liquidation_price": money(position.liquidation_price),
        "updated_at": when(position.updated_at),
    }


def balance_data(balance: Any) -> dict[str, Any]:
    """One `portfolio.Balance`."""
    return {
        "account": balance.account_id,
        "currency": balance.currency,
        "total": money(balance.total),
        "available": money(balance.available),
        "locked": money(balance.locked),
        "updated_at": when(balance.updated_at),
    }


# --------------------------------------------------------------------------- transport

_target: tuple[Any, asyncio.AbstractEventLoop] | None = None
_lock = threading.Lock()
_pending: set[asyncio.Task] = set()


def use_publisher(publisher: Any, loop: asyncio.AbstractEventLoop) -> None:
    """Send account updates through `publisher` (a `marketdata.feed.FeedPublisher` running on
    `loop`): the connector service calls this when it starts."""
    global _target
    with _lock:
        _target = (publisher, loop)


def release_publisher(publisher: Any) -> None:
    """Stop using `publisher` (the service stops); updates go to the layer directly again."""
    global _target
    with _lock:
        if _target is not None and _target[0] is publisher:
            _target = None


def publish_account_event(account_id: int, kind: str, data: dict[str, Any]) -> None:
    """Publish one row of an account (module docstring). Never raises for a transport
    failure: it is logged."""
    channel = account_channel(kind, account_id)
    message = account_message(kind, account_id, [data])
    try:
        _send(channel, message)
    except Exception:  # the layer is away: the row is in the database, snapshots carry it
        log.exception("could not publish %s update of account %s", kind, account_id)


def publish(channel: str, data: dict[str, Any]) -> None:
    """Publish one message on a channel that is no account's (`risk`); logged, never raised,
    on a transport failure, like `publish_account_event`."""
    try:
        _send(channel, data)
    except Exception:
        log.exception("could not publish on %s", channel)


def publish_after_commit(account_id: int, kind: str, data: dict[str, Any]) -> None:
    """`publish_account_event` once the current transaction commits (at once outside one);
    nothing if it rolls back. `data` is built now, from the rows as this transaction left them."""
    from django.db import transaction

    account_channel(kind, account_id)  # a wrong kind fails here, in the caller's transaction
    transaction.on_commit(lambda: publish_account_event(account_id, kind, data))


def _send(channel: str, message: dict[str, Any]) -> None:
    target = _target
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if target is not None and not target[1].is_closed():
        publisher, loop = target
        if running is loop:
            publisher.publish(channel, message, latest=False)
        else:
            loop.call_soon_threadsafe(lambda: publisher.publish(channel, message, latest=False))
        return
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    batch = {"type": BATCH_TYPE, "updates": [[channel, message]]}
    if running is None:
        from asgiref.sync import async_to_sync

        async_to_sync(layer.group_send)(FEED_GROUP, batch)
        return
    task = running.create_task(layer.group_send(FEED_GROUP, batch))
    _pending.add(task)
    task.add_done_callback(_sent)


def _sent(task: asyncio.Task) -> None:
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("could not publish an account update", exc_info=task.exception())
