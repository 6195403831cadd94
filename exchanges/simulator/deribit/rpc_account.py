"""Deribit private reads and settings: open orders, order state and history, user trades,
positions, account summaries, cancel-on-disconnect ("Trading", "Account management").
"""

from __future__ import annotations

from exchanges.simulator.deribit.constants import ORDER_TYPE_FROM_WIRE, VENUE
from exchanges.simulator.deribit.errors import RpcError, invalid_params_error
from exchanges.simulator.deribit.rpc import Call
from exchanges.simulator.deribit.wire import (
    instrument_kind,
    ms,
    param_boolean,
    param_integer,
    param_text,
)
from exchanges.simulator.engine.records import SimAccount, SimFill, SimOrder, SimPosition


class DeribitAccountMethods:
    """Deribit account method handlers."""

    @staticmethod
    def _by_type(orders: list[SimOrder], params: dict) -> list[SimOrder]:
        """Orders of the `type` asked for: `all` (the default), `limit` (plain orders),
        `trigger_all`, `stop_all`/`stop` and `take_all`/`take`, or one trigger type
        (get_open_orders* "type", cancel_all_by_* "type"). The simulator has no trailing
        stops."""
        kind = param_text(params, "type", "all")
        if kind == "all":
            return orders
        if kind == "limit":
            return [o for o in orders if not o.order_type.is_conditional]
        if kind == "trigger_all":
            return [o for o in orders if o.order_type.is_conditional]
        if kind in ("stop_all", "stop"):
            return [o for o in orders if o.order_type.is_stop]
        if kind in ("take_all", "take"):
            return [o for o in orders if o.order_type.is_conditional and not o.order_type.is_stop]
        exact = ORDER_TYPE_FROM_WIRE.get(kind)
        return [o for o in orders if exact is not None and o.order_type is exact]

    def _all_orders(self, account: SimAccount, symbol: str | None = None) -> list[SimOrder]:
        """Every order of the account once (a fired trigger order is filed under both ids)."""
        return [
            o
            for key, o in account.orders.items()
            if key == o.order_id and (symbol is None or o.symbol == symbol)
        ]

    async def _private_get_open_orders(self, call: Call, params: dict) -> list[dict]:
        orders = self._open_orders(call.account)
        kind = param_text(params, "kind")
        return [
            self._order_data(o)
            for o in self._by_type(orders, params)
            if kind in (None, "any", instrument_kind(self.instruments[o.symbol]))
        ]

    async def _private_get_open_orders_by_currency(self, call: Call, params: dict) -> list[dict]:
        currency = self._currency(params, allow_any=True)
        kind = param_text(params, "kind", "any")
        orders = self._open_orders(call.account)
        return [
            self._order_data(o)
            for o in self._by_type(orders, params)
            if currency in ("any", self.instruments[o.symbol].base)
            and kind in ("any", instrument_kind(self.instruments[o.symbol]))
        ]

    async def _private_get_open_orders_by_instrument(self, call: Call, params: dict) -> list[dict]:
        info = self._info(params)
        orders = self._open_orders(call.account, info.venue_symbol)
        return [self._order_data(o) for o in self._by_type(orders, params)]

    async def _private_get_order_state(self, call: Call, params: dict) -> dict:
        order = self._find_order(call.account, param_text(params, "order_id", required=True))
        return self._order_data(order)

    async def _private_get_order_state_by_label(self, call: Call, params: dict) -> list[dict]:
        currency = self._currency(params, allow_any=False)
        label = param_text(params, "label", required=True)
        return [
            self._order_data(o)
            for o in self._all_orders(call.account)
            if self._labels.get(o.order_id) == label and self.instruments[o.symbol].base == currency
        ]

    def _history(self, account: SimAccount, params: dict, orders: list[SimOrder]) -> list[dict]:
        count = param_integer(params, "count", 20) or 20
        offset = param_integer(params, "offset", 0) or 0
        newest_first = list(reversed(orders))
        return [self._order_data(o) for o in newest_first[offset : offset + count]]

    async def _private_get_order_history_by_currency(self, call: Call, params: dict) -> list[dict]:
        currency = self._currency(params, allow_any=False)
        kind = param_text(params, "kind", "any")
        orders = [
            o
            for o in self._all_orders(call.account)
            if not o.is_open
            and self.instruments[o.symbol].base == currency
            and kind in ("any", instrument_kind(self.instruments[o.symbol]))
        ]
        return self._history(call.account, params, orders)

    async def _private_get_order_history_by_instrument(
        self, call: Call, params: dict
    ) -> list[dict]:
        info = self._info(params)
        orders = [o for o in self._all_orders(call.account, info.venue_symbol) if not o.is_open]
        return self._history(call.account, params, orders)

    def _trades_page(self, account: SimAccount, fills: list[SimFill], params: dict) -> dict:
        count = param_integer(params, "count", 10) or 10
        if not 1 <= count <= 1000:
            raise invalid_params_error("count", "must be within 1..1000")
        start_ts = param_integer(params, "start_timestamp")
        end_ts = param_integer(params, "end_timestamp")
        start_id = param_text(params, "start_id")
        end_id = param_text(params, "end_id")
        start_seq = param_integer(params, "start_seq")
        end_seq = param_integer(params, "end_seq")
        selected = []
        for fill in fills:
            ts = ms(fill.ts_ns)
            number = int(fill.trade_id)
            if start_ts is not None and ts < start_ts:
                continue
            if end_ts is not None and ts > end_ts:
                continue
            if start_id is not None and number < int(self._engine_id(start_id)):
                continue
            if end_id is not None and number > int(self._engine_id(end_id)):
                continue
            meta = self._fill_meta.get(f"{fill.trade_id}:{fill.order_id}")
            if meta is not None and start_seq is not None and meta.trade_seq < start_seq:
                continue
            if meta is not None and end_seq is not None and meta.trade_seq > end_seq:
                continue
            selected.append(fill)
        sorting = param_text(params, "sorting", "default")
        ascending = sorting == "asc" or (
            sorting == "default"
            and (start_ts is not None or start_id is not None or start_seq is not None)
        )
        selected.sort(key=lambda f: (int(f.trade_id), f.ts_ns), reverse=not ascending)
        page = selected[:count]
        return {
            "trades": [self._user_trade_data(f, account) for f in page],
            "has_more": len(selected) > count,
        }

    async def _private_get_user_trades_by_currency(self, call: Call, params: dict) -> dict:
        currency = self._currency(params, allow_any=False)
        kind = param_text(params, "kind", "any")
        fills = [
            f
            for f in self.engine.fills(VENUE, call.account.api_key)
            if self.instruments[f.symbol].base == currency
            and kind in ("any", instrument_kind(self.instruments[f.symbol]))
        ]
        return self._trades_page(call.account, fills, params)

    async def _private_get_user_trades_by_instrument(self, call: Call, params: dict) -> dict:
        info = self._info(params)
        fills = self.engine.fills(VENUE, call.account.api_key, info.venue_symbol)
        return self._trades_page(call.account, fills, params)

    async def _private_get_user_trades_by_order(self, call: Call, params: dict) -> list[dict]:
        order = self._find_order(call.account, param_text(params, "order_id", required=True))
        fills = [
            f
            for f in self.engine.fills(VENUE, call.account.api_key, order.symbol)
            if f.order_id == order.order_id
        ]
        if param_text(params, "sorting", "asc") == "desc":
            fills.reverse()
        return [self._user_trade_data(f, call.account) for f in fills]

    async def _private_get_positions(self, call: Call, params: dict) -> list[dict]:
        currency = param_text(params, "currency", "any")
        kind = param_text(params, "kind")
        result = []
        for position in self.engine.positions(VENUE, call.account.api_key, include_flat=True):
            info = self.instruments[position.symbol]
            if currency not in ("any", info.base) or kind not in (None, instrument_kind(info)):
                continue
            result.append(self._position_data(info, position, call.account))
        return result

    async def _private_get_position(self, call: Call, params: dict) -> dict:
        info = self._info(params)
        position = self.engine.position(VENUE, call.account.api_key, info.venue_symbol)
        if position is None:
            position = SimPosition(
                venue=VENUE,
                symbol=info.venue_symbol,
                leverage=self.engine.leverage_of(VENUE, call.account.api_key, info.venue_symbol),
                settle_currency=info.settle,
                mark_price=self.engine.mark_price(VENUE, info.venue_symbol),
            )
        return self._position_data(info, position, call.account)

    async def _private_get_account_summary(self, call: Call, params: dict) -> dict:
        currency = self._currency(params, allow_any=False)
        data = self._portfolio_data(call.account, currency)
        data["limits"] = self._limits_data()
        if param_boolean(params, "extended"):
            data.update(self._account_identity(call.account))
        return data

    async def _private_get_account_summaries(self, call: Call, params: dict) -> dict:
        account = call.account
        currencies = sorted(account.balances)
        summaries = []
        for currency in currencies:
            data = self._portfolio_data(account, currency)
            data["limits"] = self._limits_data()
            summaries.append(data)
        result = {"id": self._user_id(account.api_key)}
        if param_boolean(params, "extended"):
            result.update(self._account_identity(account))
        result["summaries"] = summaries
        return result

    def _account_identity(self, account: SimAccount) -> dict:
        return {
            "id": self._user_id(account.api_key),
            "type": "main",
            "username": account.api_key,
            "system_name": account.api_key,
            "email": f"{account.api_key.lower()}@simulator.invalid",
            "creation_timestamp": self.started_ms,
            "referrer_id": None,
            "login_enabled": False,
            "security_keys_enabled": False,
            "mmp_enabled": False,
            "interuser_transfers_enabled": False,
            "self_trading_reject_mode": "cancel_maker",
            "self_trading_extended_to_subaccounts": False,
        }

    def _limits_data(self) -> dict:
        limits = self.options["limits"]
        return {
            "limits_per_currency": False,
            "non_matching_engine": dict(limits["non_matching_engine"]),
            "matching_engine": {
                "trading": {"total": dict(limits["matching_engine"])},
                "cancel_all": dict(limits["cancel_all"]),
            },
        }

    def _cod_scope(self, call: Call, params: dict) -> str:
        scope = param_text(params, "scope", "connection")
        if scope not in ("connection", "account"):
            raise invalid_params_error("scope", "must be connection or account")
        if scope == "connection" and call.conn is None:
            raise RpcError(10030, "must_be_websocket_request")
        return scope

    async def _private_enable_cod(self, call: Call, params: dict) -> str:
        return self._set_cod(call, params, True)

    async def _private_disable_cod(self, call: Call, params: dict) -> str:
        return self._set_cod(call, params, False)

    def _set_cod(self, call: Call, params: dict, enabled: bool) -> str:
        scope = self._cod_scope(call, params)
        if scope == "account":
            self._cod_account[call.account.api_key] = enabled
        if call.conn is not None:
            call.conn.cancel_on_disconnect = enabled
            call.conn.api_key = call.conn.api_key or call.account.api_key
        return "ok"

    async def _private_get_cod(self, call: Call, params: dict) -> dict:
        scope = self._cod_scope(call, params)
        if scope == "account":
            enabled = self._cod_account.get(call.account.api_key, False)
        else:
            enabled = call.conn.cancel_on_disconnect
        return {"enabled": enabled, "scope": scope}
