"""The market-data tables: connector status, trade ticks, candles, top-of-book snapshots."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from marketdata.models import Candle, ConnectorStatus
from tests.factories import (
    CandleFactory,
    ConnectorStatusFactory,
    TopOfBookSnapshotFactory,
    TradeTickFactory,
)

D = Decimal


def test_connector_status_one_row_per_stream(exchange, account):
    ConnectorStatusFactory(exchange=exchange, stream="public")
    ConnectorStatusFactory(exchange=exchange, account=account, stream="private")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectorStatusFactory(exchange=exchange, stream="public")
    with pytest.raises(IntegrityError), transaction.atomic():
        ConnectorStatusFactory(exchange=exchange, account=account, stream="private")
    assert ConnectorStatus.objects.count() == 2


def test_trade_tick_unique_per_instrument(instrument):
    TradeTickFactory(instrument=instrument, trade_id="42")
    with pytest.raises(IntegrityError):
        TradeTickFactory(instrument=instrument, trade_id="42")


def test_candle_unique_and_values(instrument):
    CandleFactory(instrument=instrument)
    candle = Candle.objects.get(instrument=instrument)
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
        D(65000),
        D("65100.5"),
        D(64950),
        D(65050),
        D(12340),
    )
    with pytest.raises(IntegrityError):
        CandleFactory(instrument=instrument)


def test_top_of_book_may_have_an_empty_side(instrument):
    snapshot = TopOfBookSnapshotFactory(instrument=instrument, best_ask=None, best_ask_size=None)
    snapshot.refresh_from_db()
    assert (snapshot.best_bid, snapshot.best_ask) == (D(65000), None)
