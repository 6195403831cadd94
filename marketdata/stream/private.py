"""The private channels of `/ws/stream`: an account's orders, fills, positions, balances and
risk events.

Names. `orders`, `fills`, `positions` and `balances` read every account the user may see
(`exchanges.selectors.accounts_visible_to`, as at the time of the subscription); `orders.<id>`
and the like read one account. Either way the messages name the account's channel
(`orders.7`) and carry `"account": 7`, so one subscription to `orders` gets one snapshot per
account, then the updates of all of them. An account the user may not see (or that does not
exist) is an `unknown_channel` error, alike, so its existence is not revealed.

Permissions: the model's view permission (`orders.view_order`, `orders.view_fill`,
`portfolio.view_position`, `portfolio.view_balance`, `risk.view_riskevent`); without it,
`forbidden`.

Snapshot (type `snapshot`, data shaped as the updates, `orders.notify`): the account's open
orders, its latest `RECENT_FILLS` fills and `RECENT_RISK_EVENTS` risk events (oldest first),
its positions and balances, read from the database. `risk_events.<id>` is how a trader, who
sees only granted accounts, follows their risk events (refusals, findings, kill switch); the
`risk` channel (`risk.py`) has every account's and the global ones, for who sees them all. Updates then come from `orders.notify.publish_account_event` through the hub.
A row read into the snapshot may also be on its way as an update published just before:
`SnapshotRows` drops such an update row unless it is newer than the snapshot's, so a client
never sees a row go back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async

from marketdata.feed import ChannelError
from orders import notify

RECENT_FILLS = 100
RECENT_RISK_EVENTS = 50
PERMISSIONS = {
    notify.ORDERS: "orders.view_order",
    notify.FILLS: "orders.view_fill",
    notify.POSITIONS: "portfolio.view_position",
    notify.BALANCES: "portfolio.view_balance",
    notify.RISK_EVENTS: "risk.view_riskevent",
}


@dataclass(frozen=True, slots=True)
class AccountChannel:
    """A parsed private channel name: `account_id` None reads every account the user sees."""

    kind: str
    account_id: int | None = None

    @property
    def permission(self) -> str:
        return PERMISSIONS[self.kind]


def parse_account_channel(name: str) -> AccountChannel | None:
    """`"orders.7"` -> `AccountChannel("orders", 7)`, `"orders"` -> `AccountChannel("orders")`;
    None for a name that is not a private channel; `ChannelError` for a bad account id."""
    kind, dot, rest = name.partition(".")
    if kind not in notify.ACCOUNT_KINDS:
        return None
    if not dot:
        return AccountChannel(kind)
    if not rest.isdigit() or rest.startswith("0"):
        raise ChannelError(f"{name!r}: expected '{kind}' or '{kind}.<account id>'")
    return AccountChannel(kind, int(rest))


def is_account_channel(name: str) -> bool:
    return name.partition(".")[0] in notify.ACCOUNT_KINDS


@database_sync_to_async
def visible_account_ids(user) -> frozenset[int]:
    from exchanges.selectors import accounts_visible_to

    return frozenset(accounts_visible_to(user).values_list("pk", flat=True))


def _rows(kind: str, account_id: int) -> list[dict[str, Any]]:
    from orders.models import Fill, Order
    from orders.state import OPEN_STATUSES
    from portfolio.models import Balance, Position

    if kind == notify.ORDERS:
        orders = (
            Order.objects.filter(account_id=account_id, status__in=list(OPEN_STATUSES))
            .select_related("instrument")
            .order_by("created_at", "id")
        )
        return [notify.order_data(order) for order in orders]
    if kind == notify.FILLS:
        fills = (
            Fill.objects.filter(account_id=account_id)
            .select_related("instrument")
            .order_by("-executed_at", "-id")[:RECENT_FILLS]
        )
        return [notify.fill_data(fill) for fill in reversed(list(fills))]
    if kind == notify.POSITIONS:
        positions = Position.objects.filter(account_id=account_id).select_related("instrument")
        return [notify.position_data(position) for position in positions]
    if kind == notify.RISK_EVENTS:
        from risk.models import RiskEvent
        from risk.notify import event_data

        events = RiskEvent.objects.filter(account_id=account_id).order_by("-created_at", "-id")
        return [event_data(event) for event in reversed(list(events[:RECENT_RISK_EVENTS]))]
    balances = Balance.objects.filter(account_id=account_id)
    return [notify.balance_data(balance) for balance in balances]


@database_sync_to_async
def read_snapshots(channels: list[str]) -> dict[str, dict[str, Any]]:
    """The snapshot of each account channel (`orders.7`, ...), read in one go."""
    snapshots = {}
    for name in channels:
        kind, _, account = name.partition(".")
        account_id = int(account)
        snapshots[name] = notify.account_message(kind, account_id, _rows(kind, account_id))
    return snapshots


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class SnapshotRows:
    """What one connection's private snapshots held, per channel: a row's key and its
    `updated_at` (fills: only the key, they never change). `keep(channel, data)` drops from an
    update the rows the snapshot already had in that state or a newer one."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[Any, datetime | None]] = {}

    def __bool__(self) -> bool:
        return bool(self.rows)

    def __contains__(self, channel: str) -> bool:
        return channel in self.rows

    def remember(self, channel: str, data: dict[str, Any]) -> None:
        kind = channel.partition(".")[0]
        key = notify.ROW_KEYS[kind]
        self.rows[channel] = {row[key]: _moment(row.get("updated_at")) for row in data[kind]}

    def forget(self, channel: str) -> None:
        self.rows.pop(channel, None)

    def keep(self, channel: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """`data` without the rows the snapshot had as new or newer; None when none is left."""
        seen = self.rows[channel]
        kind = channel.partition(".")[0]
        key = notify.ROW_KEYS[kind]
        fresh = []
        for row in data.get(kind, ()):
            if row[key] not in seen:
                fresh.append(row)
                continue
            at = _moment(row.get("updated_at"))
            before = seen[row[key]]
            changed = at is not None and (before is None or at > before)
            if kind not in notify.IMMUTABLE_KINDS and changed:
                del seen[row[key]]  # past the snapshot for this row
                fresh.append(row)
        if not seen:
            del self.rows[channel]
        if not fresh:
            return None
        return {**data, kind: fresh}


def merge_rows(channel: str, previous: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Two updates of an account channel as one, for a client that is behind: per row key the
    newest row, in the order the keys first came (fills and risk events, which never change,
    all of them)."""
    kind = channel.partition(".")[0]
    key = notify.ROW_KEYS[kind]
    rows: dict[Any, dict] = {}
    for row in [*previous.get(kind, ()), *data.get(kind, ())]:
        rows[row[key]] = row
    return {**data, kind: list(rows.values())}
