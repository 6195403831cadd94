"""Deribit JSON: the codec (numbers as the venue prints them), parameter readers, and the
builders of orders, trades, tickers, instruments, positions and portfolios.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from exchanges.simulator.deribit.constants import (
    ONE,
    ORDER_TYPE_TO_WIRE,
    PERPETUAL_EXPIRY_MS,
    STATE_TO_WIRE,
    STATE_TRIGGERED,
    TIF_TO_WIRE,
    TRIGGER_TO_WIRE,
    VENUE,
    ZERO,
    trigger_order_prefix,
)
from exchanges.simulator.deribit.errors import invalid_params_error
from exchanges.simulator.engine.fees import OPTION_FEE_PER_CONTRACT
from exchanges.simulator.engine.margin import MAINTENANCE_MARGIN
from exchanges.simulator.engine.records import (
    CancelReason,
    SimAccount,
    SimBalance,
    SimFill,
    SimOrder,
    SimPosition,
    SimTicker,
    SimTrade,
)
from exchanges.venues.base import InstrumentInfo, InstrumentKind, Liquidity, OptionType, Side


def _encode_default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return orjson.Fragment(format(obj, "f"))
    raise TypeError(f"cannot encode {type(obj).__name__}")


def dumps(obj: Any) -> bytes:
    """JSON with every Decimal written as a JSON number with its exact digits."""
    return orjson.dumps(obj, default=_encode_default)


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping non-integer numbers exact (Decimal), as Deribit sends numbers."""
    return json.loads(raw, parse_float=Decimal)


def param_text(
    params: dict, name: str, default: str | None = None, *, required: bool = False
) -> str:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid_params_error(name, "value required")
        return default  # type: ignore[return-value]
    if not isinstance(value, str):
        raise invalid_params_error(name, "must be a string")
    return value


def param_decimal(params: dict, name: str) -> Decimal | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise invalid_params_error(name, "must be a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise invalid_params_error(name, "must be a number") from None
    if not number.is_finite():
        raise invalid_params_error(name, "must be a number")
    return number


def param_integer(params: dict, name: str, default: int | None = None) -> int | None:
    number = param_decimal(params, name)
    if number is None:
        return default
    if number != number.to_integral_value():
        raise invalid_params_error(name, "must be an integer")
    return int(number)


def param_boolean(params: dict, name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise invalid_params_error(name, "must be a boolean")


def ms(ns: int) -> int:
    return ns // 1_000_000


def instrument_kind(info: InstrumentInfo) -> str:
    if info.kind is InstrumentKind.OPTION:
        return "option"
    if info.kind is InstrumentKind.SPOT:
        return "spot"
    return "future"


@dataclass
class TradeMeta:
    trade_seq: int
    tick_direction: int
    index_price: Decimal
    mark_price: Decimal


def is_trigger_order_id(wire_id: str) -> bool:
    """Whether a wire id is a trigger-order id (`SLMB-12`), not an order id (`12`, `ETH-12`)."""
    prefix = wire_id.split("-", 1)[0]
    return len(prefix) == 4 and prefix[:2] in ("SL", "TP")


def notification(channel: str, data: Any) -> bytes:
    return dumps(
        {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}
    )


def is_number(text: str) -> bool:
    try:
        return Decimal(text) > 0
    except InvalidOperation:
        return False


def _fixed(value: float, places: int) -> Decimal:
    return Decimal(repr(round(value, places))).quantize(Decimal(1).scaleb(-places))


def _percent(vol: float) -> Decimal:
    return _fixed(vol * 100, 2)


class DeribitWire:
    """Turns engine records into Deribit JSON objects."""

    @staticmethod
    def _wire_id(engine_id: str, symbol: str) -> str:
        """Deribit ids: bare numbers for BTC instruments, `ETH-<n>` for ETH ones."""
        currency = symbol.split("-", 1)[0].split("_", 1)[0]
        return engine_id if currency == "BTC" else f"{currency}-{engine_id}"

    @staticmethod
    def _engine_id(wire_id: str) -> str:
        return wire_id.rsplit("-", 1)[-1]

    def _order_wire_id(self, order: SimOrder) -> str:
        """The id an order shows: a trigger order's own id until it fires (or is cancelled
        before), the id of the order it placed after."""
        if not order.order_type.is_conditional:
            return self._wire_id(order.order_id, order.symbol)
        if order.triggered_ns is None or order.triggered_order_id is None:
            return self._trigger_wire_id(order)
        return self._wire_id(order.triggered_order_id, order.symbol)

    @staticmethod
    def _trigger_wire_id(order: SimOrder) -> str:
        return f"{trigger_order_prefix(order.order_type, order.side)}-{order.order_id}"

    def _order_data(self, order: SimOrder, *, firing: bool = False) -> dict:
        """An order object; `firing`: the trigger order as it fires (`triggered`)."""
        info = self.instruments[order.symbol]
        state = STATE_TO_WIRE[order.status]
        if order.cancel_reason is CancelReason.TRIGGER_FAILED:
            state = "rejected"  # the order its trigger placed could not be placed
        price = order.price
        if price is None:
            low, high = self._price_band(info)
            band = high if order.side is Side.BUY else low
            price = band if band is not None else (order.average_price or ZERO)
        data: dict[str, Any] = {
            "label": self._labels.get(order.order_id, ""),
            "price": price,
            "user_id": self._user_id(order.api_key),
            "amount": order.quantity,
            "direction": order.side.value,
            "time_in_force": TIF_TO_WIRE[order.time_in_force],
            "instrument_name": order.symbol,
            "web": False,
            "api": True,
            "order_id": self._order_wire_id(order),
            "creation_timestamp": ms(order.created_ns),
            "replaced": order.order_id in self._replaced,
            "filled_amount": order.filled_quantity,
            "last_update_timestamp": ms(order.updated_ns),
            "post_only": order.post_only,
            "reduce_only": order.reduce_only,
            "average_price": order.average_price if order.average_price is not None else ZERO,
            "mmp": False,
            "contracts": order.quantity / info.contract_size,
            "order_state": state,
            "order_type": ORDER_TYPE_TO_WIRE[order.order_type],
            "is_liquidation": False,
            "risk_reducing": False,
        }
        if order.order_type.is_conditional:
            data["trigger"] = TRIGGER_TO_WIRE[order.trigger_by]
            data["trigger_price"] = order.trigger_price
            data["triggered"] = order.triggered_ns is not None
            if firing:
                data["order_id"] = self._trigger_wire_id(order)
                data["order_state"] = STATE_TRIGGERED
            elif data["order_id"] != self._trigger_wire_id(order):
                data["trigger_order_id"] = self._trigger_wire_id(order)
        if order.post_only:
            data["reject_post_only"] = order.order_id in self._reject_post_only
        if state == "cancelled":
            data["cancel_reason"] = (
                "cancel_on_disconnect"
                if order.cancel_reason is CancelReason.DISCONNECT
                else "user_request"
            )
        return data

    def _user_trade_data(self, fill: SimFill, account: SimAccount) -> dict:
        info = self.instruments[fill.symbol]
        meta = self._fill_meta.get(f"{fill.trade_id}:{fill.order_id}") or self._trade_meta.get(
            fill.trade_id
        )
        order = account.orders.get(fill.order_id)
        data: dict[str, Any] = {
            "trade_seq": meta.trade_seq if meta else 0,
            "trade_id": self._wire_id(fill.trade_id, fill.symbol),
            "timestamp": ms(fill.ts_ns),
            "tick_direction": meta.tick_direction if meta else 0,
            "state": STATE_TO_WIRE[order.status] if order is not None else "filled",
            "reduce_only": order.reduce_only if order is not None else False,
            "price": fill.price,
            "post_only": order.post_only if order is not None else False,
            "order_type": ORDER_TYPE_TO_WIRE[order.order_type] if order is not None else "limit",
            "order_id": (
                self._order_wire_id(order)
                if order is not None
                else self._wire_id(fill.order_id, fill.symbol)
            ),
            "matching_id": None,
            "mark_price": meta.mark_price if meta else self.engine.mark_price(VENUE, fill.symbol),
            "liquidity": "M" if fill.liquidity is Liquidity.MAKER else "T",
            "instrument_name": fill.symbol,
            "index_price": meta.index_price if meta else self.engine.index_price(info.base),
            "fee_currency": fill.fee_currency,
            "fee": fill.fee,
            "direction": fill.side.value,
            "amount": fill.quantity,
            "contracts": fill.quantity / info.contract_size,
            "api": True,
            "mmp": False,
            "risk_reducing": False,
            "profit_loss": fill.realized_pnl,
        }
        label = self._labels.get(fill.order_id)
        if label:
            data["label"] = label
        return data

    def _public_trade_data(self, trade: SimTrade, meta: TradeMeta | None = None) -> dict:
        info = self.instruments[trade.symbol]
        meta = meta or self._trade_meta.get(trade.trade_id)
        return {
            "timestamp": ms(trade.ts_ns),
            "price": trade.price,
            "amount": trade.quantity,
            "direction": trade.taker_side.value,
            "index_price": meta.index_price if meta else self.engine.index_price(info.base),
            "instrument_name": trade.symbol,
            "trade_seq": meta.trade_seq if meta else 0,
            "mark_price": meta.mark_price if meta else self.engine.mark_price(VENUE, trade.symbol),
            "tick_direction": meta.tick_direction if meta else 0,
            "contracts": trade.quantity / info.contract_size,
            "trade_id": self._wire_id(trade.trade_id, trade.symbol),
        }

    def _option_fields(self, info: InstrumentInfo, ticker: SimTicker) -> dict:
        """Option ticker fields from the engine's option model (`Engine.option_greeks`), so
        greeks and implied volatilities agree with the generated prices."""
        greeks = self.engine.option_greeks(VENUE, info.venue_symbol)
        forward = Decimal(repr(round(greeks.forward, 2)))

        def iv(price: Decimal | None) -> Decimal:
            if not price:
                return ZERO
            return _percent(self.engine.implied_volatility(VENUE, info.venue_symbol, price))

        underlying = f"{info.venue_symbol.rsplit('-', 2)[0]}"
        return {
            "underlying_price": forward,
            "underlying_index": underlying if underlying in self.instruments else "index_price",
            "interest_rate": ZERO,
            "mark_iv": _percent(greeks.mark_iv),
            "bid_iv": iv(ticker.best_bid),
            "ask_iv": iv(ticker.best_ask),
            "greeks": {
                "delta": _fixed(greeks.delta, 5),
                "gamma": _fixed(greeks.gamma, 5),
                "vega": _fixed(greeks.vega, 5),
                "theta": _fixed(greeks.theta, 5),
                "rho": ZERO,
            },
        }

    def _ticker_data(self, info: InstrumentInfo, ticker: SimTicker) -> dict:
        low, high = self._price_band(info)
        last = ticker.last_price if ticker.last_price is not None else ticker.mark_price
        open_24h = ticker.open_24h
        change = (
            ((last - open_24h) / open_24h * 100).quantize(Decimal("0.0001")) if open_24h else ZERO
        )
        if info.kind is InstrumentKind.OPTION:
            volume_coin = ticker.volume_24h
            volume_usd = ticker.volume_24h * ticker.index_price
        else:
            volume_usd = ticker.volume_24h
            volume_coin = ticker.volume_24h / last if last else ZERO
        data: dict[str, Any] = {
            "timestamp": ms(ticker.ts_ns),
            "state": "open",
            "stats": {
                "high": ticker.high_24h if ticker.high_24h is not None else last,
                "low": ticker.low_24h if ticker.low_24h is not None else last,
                "price_change": change,
                "volume": volume_coin.quantize(Decimal("0.00000001")),
                "volume_usd": volume_usd.quantize(Decimal("0.01")),
                "volume_notional": volume_usd.quantize(Decimal("0.01")),
            },
            "index_price": ticker.index_price,
            "instrument_name": info.venue_symbol,
            "last_price": last,
            "settlement_price": ticker.mark_price,
            "min_price": low if low is not None else info.tick_size,
            "max_price": high if high is not None else ticker.mark_price * 2,
            "open_interest": ticker.open_interest,
            "mark_price": ticker.mark_price,
            "best_ask_price": ticker.best_ask if ticker.best_ask is not None else ZERO,
            "best_bid_price": ticker.best_bid if ticker.best_bid is not None else ZERO,
            "estimated_delivery_price": ticker.index_price,
            "best_ask_amount": ticker.best_ask_size if ticker.best_ask_size is not None else ZERO,
            "best_bid_amount": ticker.best_bid_size if ticker.best_bid_size is not None else ZERO,
        }
        if info.kind is InstrumentKind.PERPETUAL:
            funding = ticker.funding_rate if ticker.funding_rate is not None else ZERO
            data["interest_value"] = funding
            data["current_funding"] = funding
            data["funding_8h"] = funding
        if info.kind is InstrumentKind.OPTION:
            data.update(self._option_fields(info, ticker))
        return data

    def _instrument_data(self, info: InstrumentInfo) -> dict:
        fees = self.engine.fees[(VENUE, info.venue_symbol)]
        option = info.kind is InstrumentKind.OPTION
        future = info.kind in (InstrumentKind.PERPETUAL, InstrumentKind.FUTURE)
        data: dict[str, Any] = {
            "price_index": f"{info.base.lower()}_usd",
            "kind": instrument_kind(info),
            "instrument_name": info.venue_symbol,
            "max_leverage": 1 if option else 50,
            "maker_commission": OPTION_FEE_PER_CONTRACT if option else fees.maker,
            "taker_commission": OPTION_FEE_PER_CONTRACT if option else fees.taker,
            "instrument_type": "reversed" if info.inverse or option else "linear",
            "expiration_timestamp": (
                PERPETUAL_EXPIRY_MS if info.expiry_ts is None else ms(info.expiry_ts)
            ),
            "creation_timestamp": 1534167754000
            if info.venue_symbol == "BTC-PERPETUAL"
            else self.started_ms,
            "is_active": info.active,
            "tick_size": info.tick_size,
            "contract_size": info.contract_size,
            "instrument_id": self._instrument_ids[info.venue_symbol],
            "min_trade_amount": info.min_size,
            "max_liquidation_commission": Decimal("0.0075"),
            "block_trade_commission": Decimal("0.00025"),
            "block_trade_min_trade_amount": 25 if option else 200000,
            "block_trade_tick_size": Decimal("0.0001") if option else Decimal("0.01"),
            "settlement_currency": info.settle,
            "settlement_period": "perpetual" if info.kind is InstrumentKind.PERPETUAL else "month",
            "base_currency": info.base,
            "counter_currency": info.quote,
            "quote_currency": info.base if option else info.quote,
            "tick_size_steps": [],
        }
        if future:
            data["future_type"] = "reversed" if info.inverse else "linear"
        if option:
            data["option_type"] = "call" if info.option_type is OptionType.CALL else "put"
            data["strike"] = info.strike
        return data

    def _position_data(
        self, info: InstrumentInfo, position: SimPosition, account: SimAccount
    ) -> dict:
        mark = position.mark_price or self.engine.mark_price(VENUE, info.venue_symbol)
        size = position.quantity
        option = info.kind is InstrumentKind.OPTION
        if option:
            size_currency = size
        elif info.inverse:
            size_currency = (size / mark).quantize(Decimal("0.000000001")) if mark else ZERO
        else:
            size_currency = size
        open_orders_margin = ZERO
        for order in self.engine.open_orders(VENUE, account.api_key, info.venue_symbol):
            if order.price is None or order.reduce_only or option:
                continue
            open_orders_margin += order.remaining / order.price / position.leverage
        data: dict[str, Any] = {
            "average_price": position.entry_price if position.entry_price is not None else ZERO,
            "delta": size_currency,
            "direction": "buy" if size > 0 else "sell" if size < 0 else "zero",
            "floating_profit_loss": position.unrealized_pnl,
            "index_price": self.engine.index_price(info.base),
            "initial_margin": position.margin,
            "instrument_name": info.venue_symbol,
            "kind": instrument_kind(info),
            "leverage": int(position.leverage),
            "maintenance_margin": (abs(size_currency) * MAINTENANCE_MARGIN).quantize(
                Decimal("0.000000001")
            )
            if not option
            else ZERO,
            "mark_price": mark,
            "open_orders_margin": open_orders_margin.quantize(Decimal("0.000000001")),
            "realized_profit_loss": position.realized_pnl,
            "settlement_price": mark,
            "size": size,
            "total_profit_loss": position.unrealized_pnl + position.realized_pnl,
        }
        if not option:
            data["estimated_liquidation_price"] = (
                position.liquidation_price if position.liquidation_price is not None else ZERO
            )
            data["size_currency"] = size_currency
        if info.kind is InstrumentKind.PERPETUAL:
            data["interest_value"] = ZERO
            data["realized_funding"] = ZERO
        if option:
            del data["leverage"]
            index = self.engine.index_price(info.base)
            greeks = self._position_greeks(info, position)
            data.update(greeks)
            data["average_price_usd"] = (data["average_price"] * index).quantize(Decimal("0.01"))
            data["floating_profit_loss_usd"] = (position.unrealized_pnl * index).quantize(
                Decimal("0.01")
            )
        return dict(sorted(data.items()))

    def _position_greeks(self, info: InstrumentInfo, position: SimPosition) -> dict:
        """Greeks of an option position; `delta` in coin, net of the premium paid in coin
        (an inverse option's exposure: Black delta minus the option's coin price)."""
        greeks = self.engine.option_greeks(VENUE, info.venue_symbol)
        size = float(position.quantity)
        return {
            "delta": _fixed(size * (greeks.delta - greeks.price), 6),
            "gamma": _fixed(size * greeks.gamma, 8),
            "vega": _fixed(size * greeks.vega, 5),
            "theta": _fixed(size * greeks.theta, 5),
        }

    def _portfolio_data(self, account: SimAccount, currency: str) -> dict:
        balance = account.balances.get(currency) or SimBalance(currency, ZERO, ZERO)
        futures_upl = futures_rpl = options_upl = options_rpl = options_value = ZERO
        maintenance = delta = ZERO
        option_greeks = {"delta": ZERO, "gamma": ZERO, "vega": ZERO, "theta": ZERO}
        for position in account.positions.values():
            info = self.instruments.get(position.symbol)
            if info is None or info.settle != currency:
                continue
            if info.kind is InstrumentKind.OPTION:
                options_upl += position.unrealized_pnl
                options_rpl += position.realized_pnl
                options_value += position.quantity * (position.mark_price or ZERO)
                if position.quantity:
                    greeks = self._position_greeks(info, position)
                    for name in option_greeks:
                        option_greeks[name] += greeks[name]
            else:
                futures_upl += position.unrealized_pnl
                futures_rpl += position.realized_pnl
                mark = position.mark_price or ONE
                size_currency = position.quantity / mark if info.inverse else position.quantity
                maintenance += abs(size_currency) * MAINTENANCE_MARGIN
                delta += size_currency
        q = Decimal("0.000000001")
        session_upl = futures_upl + options_upl
        session_rpl = futures_rpl + options_rpl
        equity = balance.total + session_upl
        initial = balance.locked
        available = equity - initial
        index = ONE if currency in ("USDC", "USDT", "EURR") else self.engine.index_price(currency)
        delta = (delta + option_greeks["delta"]).quantize(q)
        index_name = f"{currency.lower()}_usd"

        def by_index(value: Decimal) -> dict:
            return {index_name: value} if value else {}

        return {
            "total_maintenance_margin_usd": (maintenance * index).quantize(q),
            "projected_initial_margin": initial,
            "total_delta_total_usd": (delta * index).quantize(q),
            "options_gamma_map": by_index(option_greeks["gamma"]),
            "options_session_rpl": options_rpl,
            "options_session_upl": options_upl,
            "futures_session_rpl": futures_rpl,
            "fee_balance": ZERO,
            "projected_maintenance_margin": maintenance.quantize(q),
            "session_upl": session_upl,
            "projected_delta_total": delta,
            "initial_margin": initial,
            "options_pl": options_upl + options_rpl,
            "options_vega_map": by_index(option_greeks["vega"]),
            "margin_balance": equity,
            "balance": balance.total,
            "maintenance_margin": maintenance.quantize(q),
            "total_initial_margin_usd": (initial * index).quantize(q),
            "additional_reserve": ZERO,
            "locked_balance": ZERO,
            "options_value": options_value,
            "options_delta": option_greeks["delta"],
            "margin_model": "cross_sm",
            "portfolio_margining_enabled": False,
            "options_gamma": option_greeks["gamma"],
            "available_funds": available,
            "cross_collateral_enabled": False,
            "delta_total": delta,
            "options_theta_map": by_index(option_greeks["theta"]),
            "spot_reserve": ZERO,
            "total_equity_usd": (equity * index).quantize(q),
            "options_theta": option_greeks["theta"],
            "futures_session_upl": futures_upl,
            "delta_total_map": by_index(delta),
            "session_rpl": session_rpl,
            "futures_pl": futures_upl + futures_rpl,
            "available_withdrawal_funds": max(min(available, balance.total), ZERO),
            "options_vega": option_greeks["vega"],
            "equity": equity,
            "total_pl": session_upl + session_rpl,
            "currency": currency,
            "total_margin_balance_usd": (equity * index).quantize(q),
        }
