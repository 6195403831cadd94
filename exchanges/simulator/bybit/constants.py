"""Bybit v5 venue facts the face follows: categories, book depths, rate limits, order statuses,
cancel types, DCP products, the trade-stream operations, the private topics and the face's
run-time switches (docs sections named in `exchanges.simulator.bybit`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from exchanges.simulator.engine.records import CancelReason
from exchanges.venues.base import OrderStatus, Side, TriggerDirection, TriggerPrice, Venue

VENUE = Venue.BYBIT


CATEGORIES = ("spot", "linear", "inverse", "option")


ZERO = Decimal(0)


ONE = Decimal(1)


# orderbook depths per category and their push intervals in seconds (docs "Orderbook").
BOOK_DEPTHS: dict[str, dict[int, float]] = {
    "spot": {1: 0.01, 50: 0.02, 200: 0.2, 1000: 0.2},
    "linear": {1: 0.01, 50: 0.02, 200: 0.1, 500: 0.1, 1000: 0.2},
    "inverse": {1: 0.01, 50: 0.02, 200: 0.1, 500: 0.1, 1000: 0.2},
    "option": {25: 0.02, 100: 0.1},
}


REST_BOOK_LIMITS = {
    "spot": (1, 200, 1),
    "linear": (1, 500, 25),
    "inverse": (1, 500, 25),
    "option": (1, 25, 1),
}


SPOT_MAX_ARGS = 10


IP_LIMIT = (600, 5.0)  # requests per window seconds, per IP (docs "HTTP IP limit")


# Per-UID per-second limits: path -> limit by category (docs "API Rate Limit Table").
_TRADE = {"linear": 10, "inverse": 10, "option": 10, "spot": 20}


RATE_LIMITS: dict[str, dict[str, int]] = {
    "/v5/order/create": _TRADE,
    "/v5/order/amend": {"linear": 10, "inverse": 10, "option": 10, "spot": 10},
    "/v5/order/cancel": _TRADE,
    "/v5/order/cancel-all": {"linear": 10, "inverse": 10, "option": 1, "spot": 20},
    "/v5/order/disconnected-cancel-all": {"": 5},
    "/v5/order/realtime": {"": 50},
    "/v5/order/history": {"": 50},
    "/v5/execution/list": {"": 50},
    "/v5/position/list": {"": 50},
    "/v5/account/wallet-balance": {"": 50},
}


DEFAULT_OPTIONS: dict[str, Any] = {
    "idle_timeout": 600.0,  # seconds without ping-pong or data before a connection is cut
    "rate_limits": True,  # per-UID endpoint limits and the per-IP limit
    "book_intervals": True,  # coalesce book pushes over each depth's interval
    "depth1_resend": 3.0,  # seconds after which depth-1 books repeat their snapshot
    "dcp_time_scale": 1.0,  # multiplies DCP timeWindow (tests shorten it)
    "restart_books": False,  # one-shot: every book stream restarts at u = 1
}


STATUS = {
    OrderStatus.NEW: "New",
    OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
    OrderStatus.FILLED: "Filled",
    OrderStatus.CANCELED: "Cancelled",
    OrderStatus.REJECTED: "Rejected",
    OrderStatus.EXPIRED: "Cancelled",
    OrderStatus.PENDING_NEW: "Created",
    OrderStatus.PENDING_CANCEL: "New",
    OrderStatus.UNTRIGGERED: "Untriggered",
}
# A conditional order cancelled before it fired is `Deactivated`; the push sent when it fires
# is `Triggered`, "an instantaneous state from Untriggered to New" (docs "Enums": orderStatus).
STATUS_DEACTIVATED = "Deactivated"
STATUS_TRIGGERED = "Triggered"

# Conditional orders ("Place Order": triggerPrice, triggerDirection, triggerBy; "Enums":
# triggerBy, stopOrderType). `triggerBy` defaults to LastPrice; spot ones always watch the last
# price and take no triggerDirection (the venue infers it from where the trigger is).
TRIGGER_BY_IN = {
    "LastPrice": TriggerPrice.LAST,
    "IndexPrice": TriggerPrice.INDEX,
    "MarkPrice": TriggerPrice.MARK,
}
TRIGGER_BY = {value: name for name, value in TRIGGER_BY_IN.items()}
TRIGGER_DIRECTION_IN = {1: TriggerDirection.RISE, 2: TriggerDirection.FALL}
TRIGGER_DIRECTION = {value: code for code, value in TRIGGER_DIRECTION_IN.items()}
STOP_ORDER_TYPE = "Stop"  # stopOrderType of a conditional order
ORDER_FILTER_PLAIN = "Order"
ORDER_FILTER_CONDITIONAL = "StopOrder"


SIDE = {Side.BUY: "Buy", Side.SELL: "Sell"}


SIDE_IN = {"Buy": Side.BUY, "Sell": Side.SELL}


CANCEL_BY_DCP = "CancelByDCP"


# Engine cancel reason -> the order's `cancelType` (docs "Enums Definitions": cancelType).
CANCEL_TYPE: dict[CancelReason, str] = {
    CancelReason.USER: "CancelByUser",
    CancelReason.CANCEL_ALL: "CancelByUser",
    CancelReason.DEAD_MAN_SWITCH: CANCEL_BY_DCP,
}


DCP_PRODUCTS = {"OPTIONS": ("option",), "DERIVATIVES": ("linear", "inverse"), "SPOT": ("spot",)}


MAINTENANCE_RATE = Decimal("0.005")


USD_COINS = ("USDT", "USDC", "USD")


POST_ONLY_REJECT = "EC_PostOnlyWillTakeLiquidity"


REORDER_HOLD_S = 0.2  # the longest a reordered private push is held back


EXEC_NAMESPACE = uuid.UUID("6f1c1a3e-5a0b-4b8e-9a56-0b1b5b7b1e01")


TRADE_OPS: dict[str, tuple[str, str]] = {
    "order.create": ("/v5/order/create", "_order_create"),
    "order.amend": ("/v5/order/amend", "_order_amend"),
    "order.cancel": ("/v5/order/cancel", "_order_cancel"),
}


PRIVATE_TOPICS = frozenset(
    {
        "order",
        *(f"order.{c}" for c in CATEGORIES),
        "execution",
        *(f"execution.{c}" for c in CATEGORIES),
        "position",
        "position.linear",
        "position.inverse",
        "position.option",
        "wallet",
        "dcp",
        "dcp.future",
        "dcp.spot",
        "dcp.option",
    }
)


# `GET /v5/account/info` unifiedMarginStatus: 1 classic, 3 UTA 1.0, 4 UTA 1.0 Pro, 5 UTA 2.0,
# 6 UTA 2.0 Pro ("Get Account Info").
UNIFIED_MARGIN_STATUS = 5


ACCOUNT_CREATED = "2025-01-02T03:04:05Z"


# A read-write key's permissions as `GET /v5/user/query-api` lists them.
API_KEY_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "ContractTrade": ("Order", "Position"),
    "Spot": ("SpotTrade",),
    "Wallet": ("AccountTransfer", "SubMemberTransfer"),
    "Options": ("OptionsTrade",),
    "Derivatives": ("DerivativesTrade",),
    "CopyTrading": (),
    "BlockTrade": (),
    "Exchange": (),
    "NFT": (),
    "Affiliate": (),
    "Earn": (),
}


def _coin_chain(
    chain: str, chain_type: str, *, confirmation: str, fee: str, minimum: str, accuracy: str
) -> dict[str, str]:
    return {
        "chainType": chain_type,
        "confirmation": confirmation,
        "withdrawFee": fee,
        "depositMin": "0",
        "withdrawMin": minimum,
        "chain": chain,
        "chainDeposit": "1",
        "chainWithdraw": "1",
        "minAccuracy": accuracy,
        "withdrawPercentageFee": "0",
        "contractAddress": "",
        "safeConfirmNumber": confirmation,
    }


# `GET /v5/asset/coin/query-info` rows: (coin, remainAmount, chains) ("Get Coin Info").
COINS: tuple[tuple[str, str, tuple[dict[str, str], ...]], ...] = (
    (
        "BTC",
        "150",
        (
            _coin_chain(
                "BTC", "BTC", confirmation="1", fee="0.0001", minimum="0.0005", accuracy="8"
            ),
        ),
    ),
    (
        "ETH",
        "2000",
        (
            _coin_chain(
                "ETH", "Ethereum", confirmation="64", fee="0.0005", minimum="0.001", accuracy="8"
            ),
        ),
    ),
    (
        "USDT",
        "5000000",
        (
            _coin_chain("ETH", "ERC20", confirmation="64", fee="4", minimum="10", accuracy="4"),
            _coin_chain("TRX", "TRC20", confirmation="50", fee="1", minimum="10", accuracy="4"),
        ),
    ),
    (
        "USDC",
        "5000000",
        (_coin_chain("ETH", "ERC20", confirmation="64", fee="4", minimum="10", accuracy="4"),),
    ),
)
