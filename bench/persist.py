"""Persistence benchmark: public trades written as the connectors write them, next to a bare
binary COPY of the same rows, in the same run, on PostgreSQL.

    python -m bench.persist [--rows 200000] [--batch 5000] [--database-url postgres://...]

Creates a scratch database (`gateway_bench_persist`, dropped first; default server
postgres://postgres@127.0.0.1:5432), migrates it, and prints rows/s for:

1. `COPY (binary)`: psycopg's binary COPY of all the rows in one statement into the trades
   table itself (its indexes and its foreign key to the instrument, which Django makes deferred:
   checked per row at the commit, which is timed too): the bare tool doing the same work, the
   baseline the goal is measured against. Beside it the same
   COPY into a copy of the table without the foreign key (`LIKE ... INCLUDING ALL`): the
   ceiling.
2. `write_trades`: `marketdata.storage.write_trades` in batches of `--batch`, new rows: COPY
   into a temporary table, `INSERT ... ON CONFLICT DO NOTHING RETURNING`, and the 1-minute
   candles of the touched minutes rebuilt: what the service does.
3. `write_trades, trades only`: the same without the candle rebuild (the trades path alone).
4. `write_trades, replay`: the same batches again: every row is already stored, none written
   (checked), candles untouched. What a connector restart's backfill costs.
5. `bulk_create(ignore_conflicts)`: Django's own batched insert of the same rows, for
   reference.

Each figure is the best of `--repeat` runs on a fresh table (the first warms the caches).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.scratch import DEFAULT_SERVER, scratch_database

SCRATCH = "gateway_bench_persist"


def _setup(server: str) -> None:
    scratch_database(server, SCRATCH)


def make_rows(instrument_ids: list[int], count: int, seed: int = 7) -> list:
    """`count` distinct trades spread over the instruments, one every 10 ms, prices and sizes
    with the decimals venues send."""
    from marketdata.storage import TradeRow

    rng = random.Random(seed)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        price = Decimal(60_000 + rng.randrange(0, 200_000)) / 10
        quantity = Decimal(rng.randrange(1, 50_000)) / 10_000
        rows.append(
            TradeRow(
                instrument_id=instrument_ids[n % len(instrument_ids)],
                trade_id=f"{n:012d}",
                price=price,
                quantity=quantity,
                side="buy" if rng.random() < 0.5 else "sell",
                traded_at=start + timedelta(milliseconds=10 * n),
            )
        )
    return rows


def _batches(rows: list, size: int):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE marketdata_tradetick, marketdata_candle")


def run_copy(rows: list, *, constrained: bool) -> float:
    """One binary COPY of `rows` into the trades table (`constrained`) or into a copy of it
    without the foreign key; returns the seconds it took."""
    from django.db import connection, transaction

    table = "marketdata_tradetick" if constrained else "bench_copy"
    with connection.cursor() as cursor:
        if constrained:
            cursor.execute("TRUNCATE marketdata_tradetick, marketdata_candle")
        else:
            cursor.execute("DROP TABLE IF EXISTS bench_copy")
            cursor.execute("CREATE TABLE bench_copy (LIKE marketdata_tradetick INCLUDING ALL)")
    started = time.perf_counter()
    # Timed to the commit: Django's foreign keys are deferred, checked when it commits.
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.cursor.copy(
            f"COPY {table} (instrument_id, trade_id, price, quantity, side, traded_at)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "varchar", "numeric", "numeric", "varchar", "timestamptz"])
            for row in rows:
                copy.write_row(
                    (
                        row.instrument_id,
                        row.trade_id,
                        row.price,
                        row.quantity,
                        row.side,
                        row.traded_at,
                    )
                )
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        assert cursor.fetchone()[0] == len(rows)
        if not constrained:
            cursor.execute("DROP TABLE bench_copy")
    return elapsed


def run_write_trades(rows: list, batch: int) -> tuple[float, int]:
    from marketdata.storage import write_trades

    started = time.perf_counter()
    written = sum(write_trades(chunk) for chunk in _batches(rows, batch))
    return time.perf_counter() - started, written


def run_trades_only(rows: list, batch: int) -> tuple[float, int]:
    from django.db import transaction

    from marketdata.storage import _insert_trades_postgres

    started = time.perf_counter()
    written = 0
    for chunk in _batches(rows, batch):
        with transaction.atomic():
            written += len(_insert_trades_postgres(chunk))
    return time.perf_counter() - started, written


def run_bulk_create(rows: list, batch: int) -> float:
    from marketdata.models import TradeTick
    from marketdata.storage import trade_tick

    started = time.perf_counter()
    for chunk in _batches(rows, batch):
        TradeTick.objects.bulk_create([trade_tick(row) for row in chunk], ignore_conflicts=True)
    return time.perf_counter() - started


def best(runs: list[float]) -> float:
    return min(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="server, no database")
    args = parser.parse_args(argv)

    try:
        _setup(args.database_url.rstrip("/"))
    except Exception as error:  # no server: the bench measures PostgreSQL or nothing
        print(f"persist: PostgreSQL at {args.database_url} not usable ({error}); skipped")
        return 0
    from exchanges.models import Instrument
    from marketdata.models import Candle, TradeTick
    from tests.factories import ExchangeFactory, InstrumentFactory

    exchange = ExchangeFactory(venue="okx")
    ids = [InstrumentFactory(exchange=exchange).pk for _ in range(3)]
    rows = make_rows(ids, args.rows)
    figures: dict[str, float] = {}

    figures["COPY (binary), bare"] = best(
        [run_copy(rows, constrained=True) for _ in range(args.repeat)]
    )
    figures["COPY, table without the FK"] = best(
        [run_copy(rows, constrained=False) for _ in range(args.repeat)]
    )

    service, replay, trades_only, bulk = [], [], [], []
    for _ in range(args.repeat):
        _reset()
        elapsed, written = run_write_trades(rows, args.batch)
        assert written == len(rows), written
        service.append(elapsed)
        candles = Candle.objects.count()
        elapsed, written = run_write_trades(rows, args.batch)
        assert written == 0 and Candle.objects.count() == candles, "a replay wrote rows"
        replay.append(elapsed)
        _reset()
        elapsed, written = run_trades_only(rows, args.batch)
        assert written == len(rows)
        trades_only.append(elapsed)
        _reset()
        bulk.append(run_bulk_create(rows, args.batch))
    assert TradeTick.objects.count() == len(rows)
    assert Instrument.objects.count() == 3
    figures["write_trades (trades + candles)"] = best(service)
    figures["write_trades, trades only"] = best(trades_only)
    figures["write_trades, replay (0 new)"] = best(replay)
    figures["bulk_create(ignore_conflicts)"] = best(bulk)

    copy_rate = args.rows / figures["COPY (binary), bare"]
    print(
        f"persist: {args.rows} trades on PostgreSQL, batches of {args.batch}, best of {args.repeat}"
    )
    print(f"{'path':<34}{'rows/s':>12}{'vs COPY':>10}")
    for name, elapsed in figures.items():
        rate = args.rows / elapsed
        print(f"{name:<34}{rate:>12,.0f}{rate / copy_rate:>9.0%}")
    print("goal: write_trades at least 50% of COPY")
    return 0


if __name__ == "__main__":
    sys.exit(main())
