"""Prometheus metrics of the market data service (`prometheus-client`).

Each process exports its own registry: the web process at `/metrics` (with the connectors'
figures too when they run inside it, as in `run_gateway`'s embedded default), a separate
`run_connectors` process on its own `--metrics-port`. Prometheus scrapes both; the labels say
which stream a figure is of.

Stream labels: `exchange` (the Exchange slug), `stream` (`public` or `private`).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

STREAM = ("exchange", "stream")

STREAM_MESSAGES = Counter(
    "gateway_stream_messages_total", "Venue messages (events) received per stream", STREAM
)
STREAM_RECONNECTS = Counter(
    "gateway_stream_reconnects_total", "Stream reconnects (socket or supervisor restarts)", STREAM
)
STREAM_UP = Gauge("gateway_stream_up", "1 while the stream is connected, else 0", STREAM)
BOOK_REBUILDS = Counter(
    "gateway_book_rebuilds_total",
    "Books dropped and rebuilt (gap, checksum, stale, drift), per exchange and reason",
    ("exchange", "reason"),
)
BOOKS_INVALID = Gauge(
    "gateway_books_invalid", "Books currently marked invalid (not published)", ("exchange",)
)
STREAM_LAG = Histogram(
    "gateway_stream_lag_seconds",
    "Receive time minus exchange time of venue messages",
    ("exchange",),
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
FEED_PUBLISHED = Counter("gateway_feed_published_total", "Feed updates handed to the channel layer")
WS_CLIENTS = Gauge("gateway_ws_clients", "Open /ws/stream connections in this process")
WS_DELIVERED = Counter("gateway_ws_delivered_total", "Feed updates sent to /ws/stream clients")
WS_CONFLATED = Counter(
    "gateway_ws_conflated_total",
    "Feed updates a slow /ws/stream client did not get because a newer state replaced them",
)
TRADES_STORED = Counter("gateway_trades_stored_total", "Public trades written to the database")
