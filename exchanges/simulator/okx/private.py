"""OKX private channels `orders`, `positions`, `account` ("Order channel", "Positions channel",
"Account channel"): pushed from the engine's events to the logged-in key's connections.
"""

from __future__ import annotations

import orjson

from exchanges.simulator.engine.records import (
    SimAccount,
    SimBalance,
    SimFill,
    SimOrder,
    SimPosition,
)
from exchanges.simulator.okx.algo_wire import algo_state
from exchanges.simulator.okx.constants import REORDER_HOLD_S, VENUE
from exchanges.simulator.okx.ws import OkxConnection
from exchanges.venues.base import InstrumentInfo


class OkxPrivate:
    """Pushes the OKX private channels."""

    def on_order(self, account: SimAccount, order: SimOrder) -> None:
        if account.venue is not VENUE:
            return
        self._meta_of(order)
        if order.order_type.is_conditional:
            self._push_algo(account, order)
            if self._plain_lookup(order, order.triggered_order_id or "") is None:
                return  # untriggered, canceled before it fired, or failed to place
        signature = (order.status, order.filled_quantity, order.quantity, order.price)
        if self._pushed.get(order.order_id) == signature:
            return
        self._pushed[order.order_id] = signature
        self._push_order(account, order, None)

    def _push_algo(self, account: SimAccount, order: SimOrder) -> None:
        """`orders-algo` ("WS / Algo orders channel"): one push per change of the algo's state,
        or of its trigger, size or order price while it waits ("Amend algo order")."""
        state = algo_state(order)
        signature = (state, order.trigger_price, order.quantity, order.price)
        if state != "live":
            signature = (state,)  # once fired, the order it placed has its own pushes
        key = f"algo:{order.order_id}"
        if self._pushed.get(key) == signature:
            return
        self._pushed[key] = signature
        conns = self._private_subscribers(account.api_key, "orders-algo")
        info = self.instruments[order.symbol]
        data = None
        for conn, arg in conns:
            if not self._matches(arg, info):
                continue
            if data is None:
                data = self._algo_json(order)
            self._send_private(conn, orjson.dumps({"arg": arg, "data": [data]}))

    def on_fill(self, account: SimAccount, fill: SimFill) -> None:
        if account.venue is not VENUE:
            return
        self._last_fill[fill.order_id] = fill
        self._last_trade[(account.api_key, fill.symbol)] = fill.trade_id
        order = self.engine.get_order(VENUE, account.api_key, order_id=fill.order_id)
        if order is None:
            return
        self._pushed[order.order_id] = (
            order.status,
            order.filled_quantity,
            order.quantity,
            order.price,
        )
        self._push_order(account, order, fill)

    def _push_order(self, account: SimAccount, order: SimOrder, fill: SimFill | None) -> None:
        conns = self._private_subscribers(account.api_key, "orders")
        if not conns:
            return
        info = self.instruments[order.symbol]
        data = None
        for conn, arg in conns:
            if not self._matches(arg, info):
                continue
            if data is None:
                data = self._order_json(order, ws=True, fill=fill)
            self._send_private(conn, orjson.dumps({"arg": arg, "data": [data]}))

    def on_position(self, account: SimAccount, position: SimPosition) -> None:
        if account.venue is not VENUE:
            return
        conns = self._private_subscribers(account.api_key, "positions")
        if not conns:
            return
        info = self.instruments[position.symbol]
        data = None
        for conn, arg in conns:
            if not self._matches(arg, info):
                continue
            if data is None:
                data = self._position_json(account, position)
            self._send_private(conn, orjson.dumps({"arg": arg, "data": [data]}))

    def on_balance(self, account: SimAccount, balance: SimBalance) -> None:
        if account.venue is not VENUE:
            return
        conns = self._private_subscribers(account.api_key, "account")
        if not conns:
            return
        for conn, arg in conns:
            if arg.get("ccy") and arg["ccy"] != balance.currency:
                continue
            data = self._account_json(account, [balance], ws=True)
            self._send_private(conn, orjson.dumps({"arg": arg, "data": [data]}))

    def _private_subscribers(self, api_key: str, channel: str) -> list[tuple[OkxConnection, dict]]:
        found = []
        for conn in self._private.get(api_key, ()):
            for (name, _), arg in conn.subs.items():
                if name == channel:
                    found.append((conn, arg))
        return found

    def _matches(self, arg: dict[str, str], info: InstrumentInfo) -> bool:
        inst_type = arg.get("instType", "ANY")
        if inst_type != "ANY" and inst_type != self._inst_type(info):
            return False
        if arg.get("instId") and arg["instId"] != info.venue_symbol:
            return False
        return not arg.get("instFamily") or arg["instFamily"] == self._inst_family(info)

    def _send_private(self, conn: OkxConnection, payload: bytes) -> None:
        """Push one private message, applying the duplicate/reorder faults."""
        conn.push_private(payload, loop=self._loop, hold_s=REORDER_HOLD_S)

    def _conn_count_event(self, conn: OkxConnection, channel: str) -> None:
        """`channel-conn-count`: how many connections of this key now carry `channel`
        ("Connection count limit", sent to new subscriptions of orders/account/positions)."""
        count = sum(
            any(name == channel for name, _ in peer.subs)
            for peer in self._private.get(conn.api_key or "", ())
        )
        payload = {
            "event": "channel-conn-count",
            "channel": channel,
            "connCount": str(count),
            "connId": conn.conn_id,
        }
        conn.send(orjson.dumps(payload))

    def _initial_private_push(self, conn: OkxConnection, channel: str, arg: dict[str, str]) -> None:
        """The `account` and `positions` channels start with the current state."""
        account = self.engine.account(VENUE, conn.api_key or "")
        if account is None:
            return
        if channel == "account":
            balances = [
                b
                for b in account.balances.values()
                if not arg.get("ccy") or b.currency == arg["ccy"]
            ]
            if balances:
                data = self._account_json(account, balances, ws=True)
                conn.send(orjson.dumps({"arg": arg, "data": [data]}))
        elif channel == "positions":
            data = [
                self._position_json(account, p)
                for p in self.engine.positions(VENUE, account.api_key)
                if self._matches(arg, self.instruments[p.symbol])
            ]
            if data:
                conn.send(orjson.dumps({"arg": arg, "data": data}))
