"""Deribit API v2 venue facts the face follows: currencies, time-in-force and order-state names,
the methods' rate-limit groups and scopes, and the face's run-time switches (docs sections
named in `exchanges.simulator.deribit`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchanges.venues.base import OrderStatus, OrderType, Side, TimeInForce, TriggerPrice, Venue

VENUE = Venue.DERIBIT


API_VERSION = "1.2.26"


ZERO = Decimal(0)


ONE = Decimal(1)


PERPETUAL_EXPIRY_MS = 32503708800000  # what Deribit lists as a perpetual's expiration


MAX_BODY = 32 * 1024  # "request entity too large" above 32 kB (error -32600)


DEFAULT_OPTIONS: dict[str, Any] = {
    "testnet": False,
    "token_ttl": 900,  # seconds an access token lives
    "signature_window_ms": 60_000,  # "valid for 60 seconds since generation"
    "min_heartbeat_interval": 10.0,  # seconds; tests lower it
    "idle_timeout": 600.0,  # seconds without a frame from the client ("10 minutes of inactivity")
    "flush_interval_ms": 100,  # the `100ms` channels
    "book_depth_default": 20,
    "price_band": "0.015",  # max_price/min_price around the mark for futures (ticker fields)
    "raw_requires_auth": True,  # error 13778 for raw channels on an unauthorized connection
    "cod_cancels": "account",  # or "connection"
    "reorder_max_hold_ms": 1000,  # a push held by reorder_private waits this long for its pair
    # Deribit's per-account credit buckets, as `get_account_summary.limits` reports them
    # (docs example of private/get_account_summary): rate per second and burst.
    "limits": {
        "non_matching_engine": {"rate": 1000, "burst": 1500},
        "matching_engine": {"rate": 200, "burst": 250},
        "cancel_all": {"rate": 200, "burst": 250},
    },
}


TIF_TO_WIRE = {
    TimeInForce.GTC: "good_til_cancelled",
    TimeInForce.IOC: "immediate_or_cancel",
    TimeInForce.FOK: "fill_or_kill",
}


TIF_FROM_WIRE = {v: k for k, v in TIF_TO_WIRE.items()}


STATE_TO_WIRE = {
    OrderStatus.PENDING_NEW: "open",
    OrderStatus.NEW: "open",
    OrderStatus.PARTIALLY_FILLED: "open",
    OrderStatus.PENDING_CANCEL: "open",
    OrderStatus.FILLED: "filled",
    OrderStatus.CANCELED: "cancelled",
    OrderStatus.EXPIRED: "cancelled",
    OrderStatus.REJECTED: "rejected",
    OrderStatus.UNTRIGGERED: "untriggered",
}


# Trigger orders (private/buy "type", "trigger", "trigger_price"; order "order_state",
# "triggered", "trigger_order_id"). An untriggered order's id is a trigger-order id like the
# documented "SLTB-187015", "SLIB-370"; the order it places when it fires gets a new
# `order_id` and names the trigger order in `trigger_order_id`.
ORDER_TYPE_TO_WIRE = {
    OrderType.LIMIT: "limit",
    OrderType.MARKET: "market",
    OrderType.STOP_MARKET: "stop_market",
    OrderType.STOP_LIMIT: "stop_limit",
    OrderType.TAKE_PROFIT_MARKET: "take_market",
    OrderType.TAKE_PROFIT_LIMIT: "take_limit",
}
ORDER_TYPE_FROM_WIRE = {v: k for k, v in ORDER_TYPE_TO_WIRE.items()}
TRIGGER_TO_WIRE = {
    TriggerPrice.INDEX: "index_price",
    TriggerPrice.MARK: "mark_price",
    TriggerPrice.LAST: "last_price",
}
TRIGGER_FROM_WIRE = {v: k for k, v in TRIGGER_TO_WIRE.items()}
STATE_TRIGGERED = "triggered"  # the trigger order once it has fired


def trigger_order_prefix(order_type: OrderType, side: Side) -> str:
    """SL (stop) or TP (take profit), L (limit) or M (market), B (buy) or S (sell): the
    letters before a simulated trigger-order id's number (the documented ids show the form,
    not the rule; the simulator's rule is this one)."""
    kind = "SL" if order_type.is_stop else "TP"
    execution = "L" if order_type.has_price else "M"
    return f"{kind}{execution}{'B' if side is Side.BUY else 'S'}"


CURRENCIES = ("BTC", "ETH", "USDC", "USDT", "EURR")


INSTRUMENT_KINDS = ("future", "option", "spot", "future_combo", "option_combo")


def _currency(
    currency: str, long: str, coin_type: str, fee: str, min_fee: str, decimals: int
) -> dict[str, Any]:
    return {
        "coin_type": coin_type,
        "currency": currency,
        "currency_long": long,
        "decimals": decimals,
        "in_cross_collateral_pool": True,
        "min_confirmations": 1,
        "min_withdrawal_fee": float(min_fee),
        "network_currency": "ETH" if coin_type == "ETHER" or currency != "BTC" else "BTC",
        "network_fee": float(fee),
        "withdrawal_fee": float(fee),
        "withdrawal_priorities": (
            [{"value": 0.15, "name": "very_low"}, {"value": 1.5, "name": "very_high"}]
            if currency == "BTC"
            else []
        ),
    }


# `public/get_currencies` rows (docs example of public/get_currencies: coin_type, currency,
# currency_long, min_confirmations, min_withdrawal_fee, withdrawal_fee, withdrawal_priorities,
# network_currency, network_fee, decimals).
CURRENCY_DETAILS: tuple[dict[str, Any], ...] = (
    _currency("BTC", "Bitcoin", "BITCOIN", "0.0001", "0.0001", 8),
    _currency("ETH", "Ethereum", "ETHER", "0.0006", "0.0001", 6),
    _currency("USDC", "USD Coin", "USDC", "1", "1", 6),
    _currency("USDT", "Tether USD", "USDT", "1", "1", 6),
    _currency("EURR", "StablR Euro", "EURR", "1", "1", 6),
)


MATCHING_ENGINE_METHODS = frozenset(
    {
        "private/buy",
        "private/sell",
        "private/edit",
        "private/edit_by_label",
        "private/cancel",
        "private/cancel_by_label",
    }
)


CANCEL_ALL_METHODS = frozenset(
    {"private/cancel_all", "private/cancel_all_by_instrument", "private/cancel_all_by_currency"}
)


ORDER_ENTRY_METHODS = frozenset({"private/buy", "private/sell", "private/edit"})


_TRADE_READ = (
    "get_open_orders",
    "get_open_orders_by_currency",
    "get_open_orders_by_instrument",
    "get_order_state",
    "get_order_state_by_label",
    "get_order_history_by_currency",
    "get_order_history_by_instrument",
    "get_user_trades_by_currency",
    "get_user_trades_by_instrument",
    "get_user_trades_by_order",
    "get_positions",
    "get_position",
)


# the access each private method needs (docs: each method's "Scope:" line)
METHOD_SCOPES: dict[str, tuple[str, str]] = {
    **{m: ("trade", "read_write") for m in MATCHING_ENGINE_METHODS | CANCEL_ALL_METHODS},
    **{f"private/{m}": ("trade", "read") for m in _TRADE_READ},
    "private/get_account_summary": ("account", "read"),
    "private/get_account_summaries": ("account", "read"),
    "private/get_cancel_on_disconnect": ("account", "read"),
    "private/enable_cancel_on_disconnect": ("account", "read_write"),
    "private/disable_cancel_on_disconnect": ("account", "read_write"),
}
