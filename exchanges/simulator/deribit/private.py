"""Deribit private channels `user.orders.*`, `user.trades.*`, `user.changes.*`,
`user.portfolio.*`: pushed from the engine's events, raw or batched per 100 ms.
"""

from __future__ import annotations

import asyncio
from typing import Any

from exchanges.simulator.deribit.constants import VENUE
from exchanges.simulator.deribit.session import Channel, DeribitConnection
from exchanges.simulator.deribit.wire import notification
from exchanges.simulator.engine.records import (
    SimAccount,
    SimBalance,
    SimFill,
    SimOrder,
    SimPosition,
)
from exchanges.venues.base import OrderStatus


def _private_payloads(channel: Channel, entries: list, raw: bool) -> list[Any]:
    """Turn queued private items into notification `data`: one object per order on raw
    `user.orders`, lists otherwise, one `{instrument_name, orders, trades, positions}` per
    instrument on `user.changes`, the latest summary on `user.portfolio`."""
    family = channel.family
    if family == "user.portfolio":
        return list({data["currency"]: data for data in entries}.values())
    if family == "user.orders":
        return list(entries) if raw else [_latest_orders(entries)]
    if family == "user.trades":
        return [list(entries)]
    by_instrument: dict[str, dict[str, Any]] = {}
    for kind, data in entries:
        bucket = by_instrument.setdefault(
            data["instrument_name"], {"orders": {}, "trades": [], "positions": {}}
        )
        if kind == "order":
            bucket["orders"][data["order_id"]] = data
        elif kind == "trade":
            bucket["trades"].append(data)
        else:
            bucket["positions"][data["instrument_name"]] = data
    return [
        {
            "trades": bucket["trades"],
            "positions": list(bucket["positions"].values()),
            "orders": list(bucket["orders"].values()),
            "instrument_name": instrument,
        }
        for instrument, bucket in by_instrument.items()
    ]


def _latest_orders(entries: list[dict]) -> list[dict]:
    latest: dict[str, dict] = {}
    for data in entries:
        latest[data["order_id"]] = data
    return list(latest.values())


def _just_fired(order: SimOrder) -> bool:
    """The engine's announcement of a trigger order that has just fired: pushed as the
    trigger order `triggered`, then as the order it placed (new `order_id`)."""
    return (
        order.triggered_ns is not None
        and order.updated_ns == order.triggered_ns
        and order.status is OrderStatus.NEW
        and order.filled_quantity == 0
    )


class DeribitPrivate:
    """Pushes the Deribit private channels."""

    def on_order(self, account: SimAccount, order: SimOrder) -> None:
        if account.venue is not VENUE:
            return
        placing = self._placing
        if placing is not None and placing[0] == account.api_key:
            self._placing = None
            _, label, reject_post_only, conn = placing
            if label:
                self._labels[order.order_id] = label
            if reject_post_only:
                self._reject_post_only.add(order.order_id)
            if conn is not None:
                conn.orders_placed.add(order.order_id)
        if _just_fired(order):
            firing = self._order_data(order, firing=True)
            self._private_event(account.api_key, order.symbol, "order", firing)
        data = self._order_data(order)
        self._private_event(account.api_key, order.symbol, "order", data)

    def on_fill(self, account: SimAccount, fill: SimFill) -> None:
        if account.venue is not VENUE:
            return
        meta = self._trade_meta.get(fill.trade_id)
        if meta is not None:
            self._fill_meta[f"{fill.trade_id}:{fill.order_id}"] = meta
        data = self._user_trade_data(fill, account)
        if self._capture is not None and account.api_key == self._capture_key:
            self._capture.append((fill.order_id, data))
        self._private_event(account.api_key, fill.symbol, "trade", data)

    def on_position(self, account: SimAccount, position: SimPosition) -> None:
        if account.venue is not VENUE:
            return
        info = self.instruments.get(position.symbol)
        if info is None:
            return
        data = self._position_data(info, position, account)
        self._private_event(account.api_key, position.symbol, "position", data)
        self._queue_portfolio(account, info.settle)

    def on_balance(self, account: SimAccount, balance: SimBalance) -> None:
        if account.venue is VENUE:
            self._queue_portfolio(account, balance.currency)

    def _queue_portfolio(self, account: SimAccount, currency: str) -> None:
        """`user.portfolio.{currency}` follows every balance and position change."""
        data = None
        for conn in self._conns.values():
            if conn.api_key != account.api_key:
                continue
            for name, channel in conn.channels.items():
                if channel.family != "user.portfolio" or channel.currency not in ("any", currency):
                    continue
                if data is None:
                    data = self._portfolio_data(account, currency)
                self._queue_private(conn, name, data, raw=True)

    def _private_event(self, api_key: str, symbol: str, kind: str, data: dict) -> None:
        info = self.instruments.get(symbol)
        if info is None:
            return
        for conn in self._conns.values():
            if conn.api_key != api_key:
                continue
            for name, channel in conn.channels.items():
                family = channel.family
                if family == "user.changes":
                    if channel.matches(info):
                        self._queue_private(conn, name, (kind, data), raw=channel.interval == "raw")
                elif (family == "user.orders" and kind == "order") or (
                    family == "user.trades" and kind == "trade"
                ):
                    if channel.matches(info):
                        self._queue_private(conn, name, data, raw=channel.interval == "raw")

    def _queue_private(
        self, conn: DeribitConnection, channel: str, item: Any, *, raw: bool
    ) -> None:
        target = conn.private_raw if raw else conn.private_batched
        target.setdefault(channel, []).append(item)
        if raw:
            self._private_dirty.add(conn)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._flush_scheduled = True
        loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        self._flush_scheduled = False
        self._flush_public_trades("raw")
        dirty = list(self._private_dirty)
        self._private_dirty.clear()
        for conn in dirty:
            self._flush_private(conn, conn.private_raw, raw=True)

    def _flush_private(
        self, conn: DeribitConnection, pending: dict[str, list], *, raw: bool
    ) -> None:
        if not pending or conn.closing:
            pending.clear()
            return
        items = dict(pending)
        pending.clear()
        for name, entries in items.items():
            channel = conn.channels.get(name)
            if channel is None:
                continue
            for data in _private_payloads(channel, entries, raw):
                self._send_private(conn, notification(name, data))

    def _send_private(self, conn: DeribitConnection, payload: bytes) -> None:
        """Push one private notification through the duplicate/reorder faults."""
        conn.push_private(
            payload,
            loop=asyncio.get_running_loop(),
            hold_s=self.options["reorder_max_hold_ms"] / 1000,
        )
