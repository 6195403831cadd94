"""OKX venue facts the face follows: book channels and modes, rate limits, order states and
cancel sources, the face's run-time switches (docs sections named in `exchanges.simulator.okx`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from exchanges.simulator.engine.records import CancelReason
from exchanges.venues.base import OrderStatus, Venue

VENUE = Venue.OKX


ZERO = Decimal(0)


BOOK_MODES = ("current", "checksum", "no_snapshot")


CHECKSUM_LEVELS = 25


LOGIN_PATH = "/users/self/verify"


AUTH_WINDOW_S = 30


MAX_QUEUED_MESSAGES = 20_000


REORDER_HOLD_S = 0.5  # the longest a reordered private push is held back


TICKER_INTERVAL_S = 0.1


CANCEL_ALL_AFTER_RANGE = (10, 120)


BATCH_MAX = 20  # orders per batch request


ALGO_CANCEL_MAX = 10  # algo orders per cancel-algos request ("Cancel algo order")


CL_ORD_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")


STABLE_COINS = frozenset({"USDT", "USDC", "USD"})


DEFAULT_OPTIONS: dict[str, Any] = {
    "book_mode": "current",
    "ws_idle_timeout_s": 30.0,
    "book_interval_ms": 100,
    "tbt_interval_ms": 10,
    "rate_limits": True,
    "cancel_all_after_scale": 1.0,  # tests shrink the dead-man countdown with this factor
    "book_keepalive_s": 60.0,
}


# (depth, cadence, incremental, carries checksum) per book channel ("Order book channel").
BOOK_CHANNELS: dict[str, tuple[int, str, bool]] = {
    "books": (400, "book", True),
    "books-l2-tbt": (400, "tbt", True),
    "books50-l2-tbt": (50, "tbt", True),
    "books5": (5, "book", False),
    "bbo-tbt": (1, "tbt", False),
}


PUBLIC_CHANNELS = frozenset({"tickers", "trades", *BOOK_CHANNELS})


PRIVATE_CHANNELS = frozenset({"orders", "orders-algo", "positions", "account"})


# WebSocket order operations on /ws/v5/private ("WS / Place order", "Cancel order", "Amend
# order"): op -> rate-limit group.
WS_TRADE_OPS = {"order": "place", "cancel-order": "cancel", "amend-order": "amend"}


CANCEL_SOURCE: dict[CancelReason, tuple[str, str]] = {
    CancelReason.USER: ("1", "Order canceled by user"),
    CancelReason.CANCEL_ALL: ("1", "Order canceled by user"),
    CancelReason.FOK_NOT_FILLABLE: ("13", "FOK order was canceled due to incompletely filled"),
    CancelReason.IOC_REMAINDER: (
        "14",
        "IOC order was partially canceled due to incompletely filled",
    ),
    CancelReason.MARKET_REMAINDER: (
        "14",
        "IOC order was partially canceled due to incompletely filled",
    ),
    CancelReason.DEAD_MAN_SWITCH: ("20", "Cancel all after triggered"),
    CancelReason.POST_ONLY_WOULD_TAKE: (
        "31",
        "The post-only order will take liquidity in taker orders",
    ),
}


STATE = {
    OrderStatus.NEW: "live",
    OrderStatus.PENDING_NEW: "live",
    OrderStatus.PARTIALLY_FILLED: "partially_filled",
    OrderStatus.FILLED: "filled",
    OrderStatus.PENDING_CANCEL: "live",
    OrderStatus.CANCELED: "canceled",
    OrderStatus.EXPIRED: "canceled",
    OrderStatus.REJECTED: "canceled",
}


# Published rate limits: (requests, window seconds, keyed by instrument too).
RATE_LIMITS: dict[str, tuple[int, float, bool]] = {
    "place": (60, 2.0, True),
    "amend": (60, 2.0, True),
    "cancel": (60, 2.0, True),
    "batch-orders": (300, 2.0, True),  # orders, not requests ("Place multiple orders")
    "amend-batch-orders": (300, 2.0, True),
    "cancel-batch-orders": (300, 2.0, True),
    "currencies": (6, 1.0, False),
    "order": (60, 2.0, True),
    "orders-pending": (60, 2.0, False),
    "fills": (60, 2.0, False),
    "fills-history": (10, 2.0, False),
    "positions": (10, 2.0, False),
    "balance": (10, 2.0, False),
    "cancel-all-after": (1, 1.0, False),
    "order-algo": (20, 2.0, True),  # "Place algo order": user + instrument
    "cancel-algos": (20, 2.0, False),
    "amend-algos": (20, 2.0, True),  # "Amend algo order": user + instrument
    "order-algo-details": (20, 2.0, False),
    "orders-algo-pending": (20, 2.0, False),
    "orders-algo-history": (20, 2.0, False),
    "instruments": (20, 2.0, False),
    "time": (10, 2.0, False),
    "ticker": (20, 2.0, False),
    "tickers": (20, 2.0, False),
    "books": (40, 2.0, False),
    "trades": (100, 2.0, False),
}


# Listing details of the instruments the simulator lists that the fixtures show
# (okx/rest_instruments_swap.json: instIdCode, maxMktSz...).
INSTRUMENT_CODES = {"BTC-USD-SWAP": 10458, "BTC-USDT-SWAP": 10459, "ETH-USDT-SWAP": 10461}


LIST_TIME = "1573557408000"


def _chain(ccy: str, name: str, chain: str, *, min_wd: str, fee: str, tick: str, confirm: str):
    return {
        "ccy": ccy,
        "name": name,
        "logoLink": "",
        "chain": f"{ccy}-{chain}",
        "ctAddr": "",
        "canDep": True,
        "canWd": True,
        "canInternal": True,
        "depEstOpenTime": "",
        "wdEstOpenTime": "",
        "minDep": min_wd,
        "minWd": min_wd,
        "minInternal": min_wd,
        "maxWd": "10000000",
        "wdTickSz": tick,
        "wdQuota": "10000000",
        "usedWdQuota": "0",
        "fee": fee,
        "minFee": fee,
        "maxFee": fee,
        "minFeeForCtAddr": fee,
        "maxFeeForCtAddr": fee,
        "burningFeeRate": "",
        "mainNet": chain in ("Bitcoin", "ERC20") and ccy in ("BTC", "ETH"),
        "needTag": False,
        "minDepArrivalConfirm": confirm,
        "minWdUnlockConfirm": confirm,
        "depQuotaFixed": "",
        "usedDepQuotaFixed": "",
        "depQuoteDailyLayer2": "",
    }


# `GET /api/v5/asset/currencies` rows, one per currency and chain ("Funding account / Get
# currencies": ccy, name, chain, canDep, canWd, canInternal, minWd, maxWd, wdTickSz, fee ...).
CURRENCY_CHAINS: tuple[dict[str, Any], ...] = (
    _chain("BTC", "Bitcoin", "Bitcoin", min_wd="0.0005", fee="0.0001", tick="8", confirm="1"),
    _chain("ETH", "Ethereum", "ERC20", min_wd="0.001", fee="0.0006", tick="8", confirm="64"),
    _chain("USDT", "Tether", "ERC20", min_wd="10", fee="3", tick="6", confirm="64"),
    _chain("USDT", "Tether", "TRC20", min_wd="10", fee="1", tick="6", confirm="20"),
    _chain("USDC", "USD Coin", "ERC20", min_wd="10", fee="3", tick="6", confirm="64"),
)
