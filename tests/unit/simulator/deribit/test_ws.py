"""Deribit channel names (deribit/ws.py)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("name", "family", "interval", "instrument", "kind", "currency"),
    [
        ("book.BTC-PERPETUAL.100ms", "book", "100ms", "BTC-PERPETUAL", None, None),
        ("book.BTC-PERPETUAL.raw", "book", "raw", "BTC-PERPETUAL", None, None),
        ("book.ETH-PERPETUAL.none.10.100ms", "book_grouped", "100ms", "ETH-PERPETUAL", None, None),
        ("ticker.BTC-PERPETUAL.raw", "ticker", "raw", "BTC-PERPETUAL", None, None),
        ("trades.future.BTC.100ms", "trades", "100ms", None, "future", "BTC"),
        ("user.orders.BTC-PERPETUAL.raw", "user.orders", "raw", "BTC-PERPETUAL", None, None),
        ("user.orders.future.any.100ms", "user.orders", "100ms", None, "future", "any"),
        ("user.trades.option.BTC.raw", "user.trades", "raw", None, "option", "BTC"),
        ("user.changes.BTC-PERPETUAL.100ms", "user.changes", "100ms", "BTC-PERPETUAL", None, None),
        ("user.portfolio.btc", "user.portfolio", "raw", None, None, "BTC"),
        ("user.portfolio.any", "user.portfolio", "raw", None, None, "any"),
    ],
)
def test_channel_names_parse(face, name, family, interval, instrument, kind, currency):
    channel = face._parse_channel(name)
    assert (
        channel.family,
        channel.interval,
        channel.instrument,
        channel.kind,
        channel.currency,
    ) == (
        family,
        interval,
        instrument,
        kind,
        currency,
    )


@pytest.mark.parametrize(
    "name",
    [
        "book.NOPE-PERPETUAL.100ms",
        "book.BTC-PERPETUAL.5ms",
        "ticker.BTC-PERPETUAL.agg2",
        "user.orders.BTC-PERPETUAL",
        "user.portfolio.doge",
        "trades.future.DOGE.raw",
        "quote.BTC-PERPETUAL",
    ],
)
def test_unknown_channels_are_refused(face, name):
    assert face._parse_channel(name) is None
