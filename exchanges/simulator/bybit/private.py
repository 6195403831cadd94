"""Bybit private topics `order`, `execution`, `position`, `wallet` ("Private" streams): pushed
from the engine's events, and the private stream's requests.
"""

from __future__ import annotations

import orjson

from exchanges.simulator.bybit.constants import PRIVATE_TOPICS, REORDER_HOLD_S, VENUE, ZERO
from exchanges.simulator.bybit.wire import dec
from exchanges.simulator.bybit.ws import BybitConnection
from exchanges.simulator.engine.records import (
    SimAccount,
    SimBalance,
    SimFill,
    SimOrder,
    SimPosition,
)
from exchanges.venues.base import OrderStatus


class BybitPrivate:
    """Pushes the Bybit private topics."""

    def on_order(self, account: SimAccount, order: SimOrder) -> None:
        if account.venue is not VENUE:
            return
        if order.order_id not in self._last_price_on_created:
            last = self._last_trade.get(order.symbol)
            inst = self._by_engine_symbol[order.symbol]
            self._last_price_on_created[order.order_id] = dec(last, inst.price_q) if last else ""
        conns = self._private.get(account.api_key)
        if not conns:
            return
        category = self._by_engine_symbol[order.symbol].category
        topics = ("order", f"order.{category}")
        if _just_fired(order):
            self._push_private(conns, topics, [self._order_push_item(order, firing=True)])
        self._push_private(conns, topics, [self._order_push_item(order)])

    def on_fill(self, account: SimAccount, fill: SimFill) -> None:
        if account.venue is not VENUE:
            return
        inst = self._by_engine_symbol[fill.symbol]
        order = account.orders.get(fill.order_id)
        self._fill_context[self.exec_id(fill)] = {
            "leavesQty": dec(
                order.remaining if order is not None and order.is_open else ZERO, inst.qty_q
            ),
            "closedSize": dec(fill.closed_quantity, inst.qty_q),
            "markPrice": dec(self.engine.mark_price(VENUE, fill.symbol), inst.price_q),
            "seq": self._seq.get(fill.symbol, 0),
        }
        conns = self._private.get(account.api_key)
        if conns:
            item = self._execution_row(account, fill, rest=False)
            self._push_private(conns, ("execution", f"execution.{inst.category}"), [item])

    def on_position(self, account: SimAccount, position: SimPosition) -> None:
        if account.venue is not VENUE:
            return
        conns = self._private.get(account.api_key)
        if conns:
            category = self._by_engine_symbol[position.symbol].category
            item = self._position_row(position, rest=False)
            self._push_private(conns, ("position", f"position.{category}"), [item])

    def on_balance(self, account: SimAccount, balance: SimBalance) -> None:
        if account.venue is not VENUE or not self._private.get(account.api_key):
            return
        if account.api_key not in self._wallet_dirty and self._loop is not None:
            self._wallet_dirty[account.api_key] = account
            self._loop.call_soon(self._flush_wallet, account.api_key)

    def _flush_wallet(self, api_key: str) -> None:
        account = self._wallet_dirty.pop(api_key, None)
        conns = self._private.get(api_key)
        if account is None or not conns:
            return
        self._push_private(conns, ("wallet",), [self._wallet_row(account, [], rest=False)])

    def _push_private(
        self, conns: set[BybitConnection], topics: tuple[str, ...], data: list
    ) -> None:
        """Send one private push to each connection subscribed to one of `topics`."""
        encoded: dict[str, bytes] = {}
        for conn in list(conns):
            topic = next((t for t in topics if t in conn.topics), None)
            if topic is None:
                continue
            message = encoded.get(topic)
            if message is None:
                message = encoded[topic] = orjson.dumps(
                    {
                        "id": f"{self._conn_prefix[:14]}-{next(self._push_ids)}",
                        "topic": topic,
                        "creationTime": self._now_ms(),
                        "data": data,
                    }
                )
            self._send_private(conn, message)

    def _send_private(self, conn: BybitConnection, message: bytes) -> None:
        """Send with the private-push faults: reorder (hold one back) and duplicate."""
        conn.push_private(message, loop=self._loop, hold_s=REORDER_HOLD_S)

    def _on_private_message(self, conn: BybitConnection, request: dict) -> None:
        op = request.get("op")
        req_id = request.get("req_id")
        if op == "ping":
            conn.touch()
            if conn.api_key is not None:
                self._disarm_dcp(conn.api_key)
            self._reply(
                conn,
                {
                    "req_id": req_id or "",
                    "op": "pong",
                    "args": [str(self._now_ms())],
                    "conn_id": conn.conn_id,
                },
            )
            return
        if op == "auth":
            self._auth(conn, request.get("args"), req_id)
            return
        if op not in ("subscribe", "unsubscribe"):
            self._ack(conn, op or "", req_id, f"Invalid op: {op}", success=False)
            return
        if conn.api_key is None:
            self._ack(conn, op, req_id, "Request not authorized", success=False)
            return
        args = request.get("args")
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            self._ack(conn, op, req_id, "args must be a non-empty list of topics", success=False)
            return
        if op == "unsubscribe":
            for topic in args:
                conn.topics.discard(topic)
            self._ack(conn, op, req_id, "")
            return
        for topic in args:
            if topic not in PRIVATE_TOPICS:
                self._ack(conn, op, req_id, f"Invalid topic: {topic}", success=False)
                return
        conn.topics.update(args)
        if any(t.startswith("dcp") for t in args):
            self._disarm_dcp(conn.api_key)
        self._ack(conn, op, req_id, "")


def _just_fired(order: SimOrder) -> bool:
    """The engine's announcement of a conditional order whose trigger has just fired: pushed
    `Triggered`, then `New` ("Enums": orderStatus)."""
    return (
        order.triggered_ns is not None
        and order.updated_ns == order.triggered_ns
        and order.status is OrderStatus.NEW
        and order.filled_quantity == 0
    )
