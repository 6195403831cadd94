"""`marketdata.storage`: trades written in batches, replays and repeats skipped, candles rebuilt
exactly whatever order the trades came in, top-of-book samples, retention. Runs on the test
database (PostgreSQL's COPY path when DATABASE_URL points there, SQLite's otherwise)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django_celery_beat.models import PeriodicTask

from marketdata import storage
from marketdata.models import Candle, TopOfBookSnapshot, TradeTick
from marketdata.storage import TopOfBookRow, TradeRow
from marketdata.tasks import PRUNE_TASK, prune_market_data
from tests.factories import T0, CandleFactory, InstrumentFactory, TradeTickFactory

pytestmark = pytest.mark.django_db

D = Decimal
M0 = T0.replace(second=0, microsecond=0)


@pytest.fixture
def instrument():
    return InstrumentFactory()


def trade(instrument, trade_id, price, quantity, seconds, side="buy"):
    return TradeRow(
        instrument_id=instrument.pk,
        trade_id=str(trade_id),
        price=D(price),
        quantity=D(quantity),
        side=side,
        traded_at=M0 + timedelta(seconds=seconds),
    )


def candle_of(instrument, minute=M0):
    row = Candle.objects.get(instrument=instrument, interval="1m", open_time=minute)
    return (row.open, row.high, row.low, row.close, row.volume, row.trades)


def test_trades_are_stored_with_their_candle(instrument):
    rows = [
        trade(instrument, 1, "100.5", "0.25", 1),
        trade(instrument, 2, "101", "1", 20, "sell"),
        trade(instrument, 3, "99.75", "0.5", 40),
        trade(instrument, 4, "100", "2", 59.999),
        trade(instrument, 5, "105", "3", 61),
    ]

    assert storage.write_trades(rows) == 5

    stored = list(
        TradeTick.objects.order_by("trade_id").values_list("trade_id", "price", "quantity", "side")
    )
    assert stored == [
        ("1", D("100.5"), D("0.25"), "buy"),
        ("2", D("101"), D("1"), "sell"),
        ("3", D("99.75"), D("0.5"), "buy"),
        ("4", D("100"), D("2"), "buy"),
        ("5", D("105"), D("3"), "buy"),
    ]
    assert candle_of(instrument) == (D("100.5"), D("101"), D("99.75"), D("100"), D("3.75"), 4)
    assert candle_of(instrument, M0 + timedelta(minutes=1)) == (
        D(105),
        D(105),
        D(105),
        D(105),
        D(3),
        1,
    )


def test_a_replayed_batch_changes_nothing(instrument):
    rows = [trade(instrument, n, 100 + n, 1, n) for n in range(10)]
    assert storage.write_trades(rows) == 10
    before = candle_of(instrument)

    assert storage.write_trades(rows) == 0
    assert storage.write_trades(rows[3:7]) == 0

    assert TradeTick.objects.count() == 10
    assert Candle.objects.count() == 1
    assert candle_of(instrument) == before == (D(100), D(109), D(100), D(109), D(10), 10)


def test_a_trade_repeated_in_one_batch_is_stored_once(instrument):
    rows = [trade(instrument, 7, "50", "1", 5), trade(instrument, 7, "50", "1", 5)]
    assert storage.write_trades(rows) == 1
    assert candle_of(instrument) == (D(50), D(50), D(50), D(50), D(1), 1)


def test_a_late_trade_moves_the_open_and_a_partial_replay_adds_only_the_new(instrument):
    storage.write_trades(
        [trade(instrument, "b", "20", "1", 30), trade(instrument, "c", "30", "1", 45)]
    )
    # The connector restarted: its backfill repeats "b" and brings an earlier trade "a".
    new = storage.write_trades(
        [trade(instrument, "a", "10", "2", 10), trade(instrument, "b", "20", "1", 30)]
    )

    assert new == 1
    assert candle_of(instrument) == (D(10), D(30), D(10), D(30), D(4), 3)


def test_trades_of_the_same_time_keep_their_arrival_order(instrument):
    storage.write_trades([trade(instrument, "x", "1", "1", 5), trade(instrument, "y", "2", "1", 5)])
    assert candle_of(instrument)[0::3] == (D(1), D(2))


def test_instruments_have_their_own_trades_and_candles(instrument):
    other = InstrumentFactory(exchange=instrument.exchange)
    storage.write_trades([trade(instrument, "1", "10", "1", 1), trade(other, "1", "20", "5", 2)])

    assert TradeTick.objects.filter(trade_id="1").count() == 2
    assert candle_of(instrument) == (D(10), D(10), D(10), D(10), D(1), 1)
    assert candle_of(other) == (D(20), D(20), D(20), D(20), D(5), 1)


def test_an_empty_batch_writes_nothing():
    assert storage.write_trades([]) == 0
    assert storage.write_top_of_book([]) == 0


def test_large_batches_cross_the_sqlite_variable_limit(instrument):
    rows = [trade(instrument, n, "1.5", "0.1", n / 100) for n in range(1_200)]
    assert storage.write_trades(rows) == 1_200
    assert storage.write_trades(rows) == 0
    assert candle_of(instrument) == (D("1.5"), D("1.5"), D("1.5"), D("1.5"), D(120), 1_200)


def test_top_of_book_samples_are_stored(instrument):
    rows = [
        TopOfBookRow(instrument.pk, D("99.5"), D(2), D("100.5"), D("1.25"), M0),
        TopOfBookRow(instrument.pk, None, None, D(101), D(1), M0 + timedelta(seconds=5)),
    ]
    assert storage.write_top_of_book(rows) == 2
    stored = list(
        TopOfBookSnapshot.objects.order_by("taken_at").values_list(
            "best_bid", "best_bid_size", "best_ask", "best_ask_size", "taken_at"
        )
    )
    assert stored == [
        (D("99.5"), D(2), D("100.5"), D("1.25"), M0),
        (None, None, D(101), D(1), M0 + timedelta(seconds=5)),
    ]


@override_settings(MARKETDATA_RETENTION_DAYS={"trades": 2, "candles": 0, "top_of_book": 1})
def test_prune_keeps_each_kind_for_its_horizon(instrument):
    now = M0 + timedelta(days=10)
    TradeTickFactory(instrument=instrument, trade_id="old", traded_at=now - timedelta(days=3))
    TradeTickFactory(instrument=instrument, trade_id="new", traded_at=now - timedelta(days=1))
    CandleFactory(instrument=instrument, open_time=now - timedelta(days=300))
    storage.write_top_of_book(
        [
            TopOfBookRow(instrument.pk, D(1), D(1), D(2), D(1), now - timedelta(hours=25)),
            TopOfBookRow(instrument.pk, D(1), D(1), D(2), D(1), now - timedelta(hours=23)),
        ]
    )

    assert storage.prune(now) == {"trades": 1, "candles": 0, "top_of_book": 1}
    assert list(TradeTick.objects.values_list("trade_id", flat=True)) == ["new"]
    assert Candle.objects.count() == 1
    assert TopOfBookSnapshot.objects.count() == 1


@override_settings(MARKETDATA_RETENTION_DAYS={"trades": 1, "candles": 1, "top_of_book": 1})
def test_the_retention_task_prunes_and_is_scheduled_hourly(instrument):
    TradeTickFactory(instrument=instrument, traded_at=M0 - timedelta(days=400))

    # run as the worker runs it (with REDIS_URL, `delay` would go to a broker no worker reads)
    assert prune_market_data.apply().get() == {"trades": 1, "candles": 0, "top_of_book": 0}

    task = PeriodicTask.objects.get(task=PRUNE_TASK)
    assert (task.enabled, task.interval.every, task.interval.period) == (True, 1, "hours")


def test_on_postgresql_a_batch_racing_another_writer_stores_only_the_new(instrument):
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the COPY ladder is PostgreSQL's")
    storage.write_trades([trade(instrument, "taken", "10", "1", 1)])
    rows = [trade(instrument, "taken", "10", "1", 1), trade(instrument, "free", "11", "2", 2)]

    with transaction.atomic(), connection.cursor() as cursor:
        new = storage._insert_trades_on_conflict(cursor, TradeTick._meta.db_table, rows)

    assert [(instrument_id, moment) for instrument_id, moment in new] == [
        (instrument.pk, M0 + timedelta(seconds=2))
    ]
    assert sorted(TradeTick.objects.values_list("trade_id", flat=True)) == ["free", "taken"]
