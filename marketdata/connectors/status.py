"""Each stream's heartbeat: its `ConnectorStatus` row and its prometheus figures.

`status_rows` reads the connectors on the event loop (cheap, no I/O) and brings the counters
of `marketdata/metrics.py` up to date; `write_statuses` stores the rows, in a worker thread.
The final row of a stopped stream says `disconnected`. Public streams have one row per
exchange (`status_rows`), private ones one per account (`account_status_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchanges.venues.base import StreamKind, StreamState
from marketdata import metrics

PUBLIC = str(StreamKind.PUBLIC)
PRIVATE = str(StreamKind.PRIVATE)


@dataclass(slots=True)
class Reported:
    """What the counters of a stream stood at when last exported to prometheus."""

    messages: int = 0
    reconnects: int = 0


def status_rows(connectors: list, intervals: Any, *, final: bool = False) -> list[dict]:
    """One row of `ConnectorStatus` fields per connector (`exchange_id` is the key)."""
    rows = []
    now = datetime.now(UTC)
    for connector in connectors:
        health = connector.health
        reported = getattr(connector, "_reported", None)
        if reported is None:
            reported = connector._reported = Reported()
        metrics.STREAM_MESSAGES.labels(connector.slug, PUBLIC).inc(
            health.messages - reported.messages
        )
        metrics.STREAM_RECONNECTS.labels(connector.slug, PUBLIC).inc(
            health.reconnects - reported.reconnects
        )
        reported.messages, reported.reconnects = health.messages, health.reconnects
        invalid = connector.books_invalid
        metrics.BOOKS_INVALID.labels(connector.slug).set(0 if final else invalid)
        state = health.state
        if final:
            state = StreamState.DISCONNECTED
            metrics.STREAM_UP.labels(connector.slug, PUBLIC).set(0)
        rows.append(
            {
                "exchange_id": connector.wanted.exchange_id,
                "state": str(state),
                "detail": "stopped" if final else _detail(connector),
                "started_at": health.started_at,
                "last_heartbeat_at": now,
                "last_message_at": health.last_message_at,
                "messages": health.messages,
                "messages_per_second": (
                    Decimal(0) if final else health.messages_per_second(connector.now())
                ),
                "reconnects": health.reconnects,
                "book_rebuilds": health.book_rebuilds,
                "books_invalid": 0 if final else invalid,
                "lag_p50_ms": health.lag.percentile_ms(0.5),
                "lag_p99_ms": health.lag.percentile_ms(0.99),
            }
        )
    return rows


def account_status_rows(connectors: list, *, final: bool = False) -> list[dict]:
    """One row of `ConnectorStatus` fields per account's private stream (`exchange_id`,
    `account_id` and `stream` are the key); the book figures stay 0."""
    rows = []
    now = datetime.now(UTC)
    for connector in connectors:
        health = connector.health
        reported = getattr(connector, "_reported", None)
        if reported is None:
            reported = connector._reported = Reported()
        metrics.STREAM_MESSAGES.labels(connector.slug, PRIVATE).inc(
            health.messages - reported.messages
        )
        metrics.STREAM_RECONNECTS.labels(connector.slug, PRIVATE).inc(
            health.reconnects - reported.reconnects
        )
        reported.messages, reported.reconnects = health.messages, health.reconnects
        rows.append(
            {
                "exchange_id": connector.wanted.exchange_id,
                "account_id": connector.wanted.account_id,
                "stream": PRIVATE,
                "state": str(StreamState.DISCONNECTED if final else health.state),
                "detail": "stopped" if final else health.detail[:500],
                "started_at": health.started_at,
                "last_heartbeat_at": now,
                "last_message_at": health.last_message_at,
                "messages": health.messages,
                "messages_per_second": (
                    Decimal(0) if final else health.messages_per_second(connector.now())
                ),
                "reconnects": health.reconnects,
            }
        )
    return rows


def _detail(connector) -> str:
    if not connector.wanted.instruments:
        return "no subscriptions"
    return connector.health.detail[:500]


def write_statuses(rows: list[dict]) -> None:
    """Store each stream's row: one per exchange's public stream, one per account's private
    stream (rows without `account_id` are public)."""
    from marketdata.models import ConnectorStatus

    for row in rows:
        values = dict(row)
        exchange_id = values.pop("exchange_id")
        account_id = values.pop("account_id", None)
        stream = values.pop("stream", PUBLIC)
        ConnectorStatus.objects.update_or_create(
            exchange_id=exchange_id, account_id=account_id, stream=stream, defaults=values
        )
