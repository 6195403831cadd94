"""Market data persistence: public trades, the 1-minute candles built from them, top-of-book
samples, and their retention.

Everything is written in batches, never a row at a time, and replaying a batch changes nothing:

- Trades. On PostgreSQL a batch is binary-`COPY`ed straight into the table; when the unique
  (instrument, trade id) index refuses it because some trades are stored already, those are
  looked up and the rest copied (`_insert_trades_postgres` has the whole ladder). On SQLite the
  ids already stored are read first and the rest bulk-inserted (`ignore_conflicts` against a
  concurrent writer).
- Candles. Each minute that received a new trade is recomputed from the stored trades of that
  minute (open and close by trade time, then by arrival), and upserted. Recomputing rather than
  adding makes a candle right whatever order or repetition its trades came in.
- Top of book. Samples are bulk-inserted; they have no natural key and are not replayed.

`bench/persist.py` measures `write_trades` beside a bare binary COPY of the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from marketdata.models import Candle, TopOfBookSnapshot, TradeTick

MINUTE = timedelta(minutes=1)
ONE_MINUTE = Candle.Interval.ONE_MINUTE.value
_TEMP_TRADES = "_md_trades_in"


@dataclass(frozen=True, slots=True)
class TradeRow:
    """One public trade as stored: `side` is the taker's side (`buy`/`sell`)."""

    instrument_id: int
    trade_id: str
    price: Decimal
    quantity: Decimal
    side: str
    traded_at: datetime


@dataclass(frozen=True, slots=True)
class TopOfBookRow:
    instrument_id: int
    best_bid: Decimal | None
    best_bid_size: Decimal | None
    best_ask: Decimal | None
    best_ask_size: Decimal | None
    taken_at: datetime


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def write_trades(rows: Sequence[TradeRow]) -> int:
    """Store `rows` in one batch, skipping trades already stored (same instrument and trade
    id), and bring the 1-minute candles of the minutes they fall in up to date. Returns how
    many trades were new. Synchronous: the connectors call it from a worker thread."""
    rows = _unique(rows)
    if not rows:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            new = _insert_trades_postgres(rows)
        else:
            new = _insert_trades_bulk(rows)
        touched = {(instrument_id, minute_of(traded_at)) for instrument_id, traded_at in new}
        if touched:
            rebuild_candles(touched)
    return len(new)


def _unique(rows: Iterable[TradeRow]) -> list[TradeRow]:
    """The batch without repeats of a trade (the first copy kept): a venue may push a trade
    twice, and the database must not see both in one statement."""
    seen: set[tuple[int, str]] = set()
    unique = []
    for row in rows:
        key = (row.instrument_id, row.trade_id)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def _insert_trades_postgres(rows: Sequence[TradeRow]) -> list[tuple[int, datetime]]:
    """Binary-COPY the batch straight into the table: live trades are new, and this is the
    fast path. When some are stored already (a replay, a restart's backfill), the unique index
    fails the COPY as a whole; then the stored ones are looked up (one indexed query) and the
    others copied; should another writer store some in between, the batch goes through a
    temporary table and `INSERT ... ON CONFLICT DO NOTHING`, slower but never failing."""
    table = TradeTick._meta.db_table
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                _copy_rows(cursor, table, rows)
            return [(row.instrument_id, row.traded_at) for row in rows]
        except IntegrityError:
            pass
        # A batch is a few thousand keys against a table of millions: index probes, always.
        # Left to itself the planner hashes the whole table whenever its statistics lag
        # behind the table's growth (a fresh or fast-growing table). For this transaction only.
        cursor.execute("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off")
        cursor.execute(
            f"SELECT t.instrument_id, t.trade_id FROM {table} t"
            " JOIN unnest(%s::bigint[], %s::varchar[]) AS b(instrument_id, trade_id)"
            " ON t.instrument_id = b.instrument_id AND t.trade_id = b.trade_id",
            [[row.instrument_id for row in rows], [row.trade_id for row in rows]],
        )
        stored = set(cursor.fetchall())
        new = [row for row in rows if (row.instrument_id, row.trade_id) not in stored]
        if not new:
            return []
        try:
            with transaction.atomic():
                _copy_rows(cursor, table, new)
        except IntegrityError:
            return _insert_trades_on_conflict(cursor, table, new)
    return [(row.instrument_id, row.traded_at) for row in new]


def _copy_rows(cursor, table: str, rows: Sequence[TradeRow]) -> None:
    # psycopg's own cursor for COPY; its errors become Django's (IntegrityError) as usual.
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(
            f"COPY {table} (instrument_id, trade_id, price, quantity, side, traded_at)"
            " FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(["int8", "varchar", "numeric", "numeric", "varchar", "timestamptz"])
        write_row = copy.write_row
        for row in rows:
            write_row(
                (row.instrument_id, row.trade_id, row.price, row.quantity, row.side, row.traded_at)
            )


def _insert_trades_on_conflict(cursor, table: str, rows: Sequence[TradeRow]) -> list:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_TEMP_TRADES} ("
        " instrument_id bigint, trade_id varchar(64), price numeric, quantity numeric,"
        " side varchar(4), traded_at timestamptz) ON COMMIT DELETE ROWS"
    )
    _copy_rows(cursor, _TEMP_TRADES, rows)
    cursor.execute(
        f"INSERT INTO {table} (instrument_id, trade_id, price, quantity, side, traded_at)"
        " SELECT instrument_id, trade_id, price, quantity, side, traded_at"
        f" FROM {_TEMP_TRADES}"
        " ON CONFLICT (instrument_id, trade_id) DO NOTHING"
        " RETURNING instrument_id, traded_at"
    )
    new = cursor.fetchall()
    cursor.execute(f"TRUNCATE {_TEMP_TRADES}")
    return new


def _insert_trades_bulk(rows: Sequence[TradeRow]) -> list[tuple[int, datetime]]:
    by_instrument: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        by_instrument[row.instrument_id].append(row.trade_id)
    stored: set[tuple[int, str]] = set()
    for instrument_id, trade_ids in by_instrument.items():
        for start in range(0, len(trade_ids), 500):  # SQLite's bound-variable limit
            stored.update(
                TradeTick.objects.filter(
                    instrument_id=instrument_id, trade_id__in=trade_ids[start : start + 500]
                ).values_list("instrument_id", "trade_id")
            )
    new = [row for row in rows if (row.instrument_id, row.trade_id) not in stored]
    TradeTick.objects.bulk_create(
        [trade_tick(row) for row in new], batch_size=500, ignore_conflicts=True
    )
    return [(row.instrument_id, row.traded_at) for row in new]


def trade_tick(row: TradeRow) -> TradeTick:
    """The unsaved model row of `row` (the bulk-insert path, and the benchmark's reference)."""
    return TradeTick(
        instrument_id=row.instrument_id,
        trade_id=row.trade_id,
        price=row.price,
        quantity=row.quantity,
        side=row.side,
        traded_at=row.traded_at,
    )


def rebuild_candles(touched: Iterable[tuple[int, datetime]]) -> int:
    """Recompute the 1-minute candles of `(instrument id, minute start)` from the stored trades
    and upsert them; returns how many candles were written."""
    touched = sorted(set(touched))
    if not touched:
        return 0
    if connection.vendor == "postgresql":
        return _rebuild_candles_postgres(touched)
    return _rebuild_candles_python(touched)


def _rebuild_candles_postgres(touched: list[tuple[int, datetime]]) -> int:
    trades, candles = TradeTick._meta.db_table, Candle._meta.db_table
    values = ", ".join(["(%s::bigint, %s::timestamptz)"] * len(touched))
    params: list = [ONE_MINUTE]
    for instrument_id, minute in touched:
        params += [instrument_id, minute]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {candles}"
            " (instrument_id, interval, open_time, open, high, low, close, volume, trades)"
            " SELECT t.instrument_id, %s, m.minute,"
            " (array_agg(t.price ORDER BY t.traded_at, t.id))[1], max(t.price), min(t.price),"
            " (array_agg(t.price ORDER BY t.traded_at DESC, t.id DESC))[1],"
            " sum(t.quantity), count(*)"
            f" FROM (VALUES {values}) AS m(instrument_id, minute)"
            f" JOIN {trades} t ON t.instrument_id = m.instrument_id"
            "  AND t.traded_at >= m.minute AND t.traded_at < m.minute + interval '1 minute'"
            " GROUP BY t.instrument_id, m.minute"
            " ON CONFLICT (instrument_id, interval, open_time) DO UPDATE SET"
            " open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,"
            " close = EXCLUDED.close, volume = EXCLUDED.volume, trades = EXCLUDED.trades",
            params,
        )
        return cursor.rowcount


def _rebuild_candles_python(touched: list[tuple[int, datetime]]) -> int:
    built = []
    for instrument_id, minute in touched:
        prices = list(
            TradeTick.objects.filter(
                instrument_id=instrument_id, traded_at__gte=minute, traded_at__lt=minute + MINUTE
            )
            .order_by("traded_at", "id")
            .values_list("price", "quantity")
        )
        if not prices:
            continue
        built.append(
            Candle(
                instrument_id=instrument_id,
                interval=ONE_MINUTE,
                open_time=minute,
                open=prices[0][0],
                high=max(price for price, _ in prices),
                low=min(price for price, _ in prices),
                close=prices[-1][0],
                volume=sum((quantity for _, quantity in prices), Decimal(0)),
                trades=len(prices),
            )
        )
    Candle.objects.bulk_create(
        built,
        update_conflicts=True,
        unique_fields=["instrument", "interval", "open_time"],
        update_fields=["open", "high", "low", "close", "volume", "trades"],
    )
    return len(built)


def write_top_of_book(rows: Sequence[TopOfBookRow]) -> int:
    """Store top-of-book samples in one batch; returns how many were written."""
    TopOfBookSnapshot.objects.bulk_create(
        [
            TopOfBookSnapshot(
                instrument_id=row.instrument_id,
                best_bid=row.best_bid,
                best_bid_size=row.best_bid_size,
                best_ask=row.best_ask,
                best_ask_size=row.best_ask_size,
                taken_at=row.taken_at,
            )
            for row in rows
        ],
        batch_size=500,
    )
    return len(rows)


def prune(now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than the horizons of `settings.MARKETDATA_RETENTION_DAYS`
    (`trades`, `candles`, `top_of_book`; 0 keeps forever). Returns the rows deleted per kind."""
    now = now or timezone.now()
    horizons = settings.MARKETDATA_RETENTION_DAYS
    targets = {
        "trades": (TradeTick, "traded_at"),
        "candles": (Candle, "open_time"),
        "top_of_book": (TopOfBookSnapshot, "taken_at"),
    }
    deleted = {}
    for kind, (model, field) in targets.items():
        days = int(horizons.get(kind, 0))
        if days <= 0:
            deleted[kind] = 0
            continue
        cutoff = now - timedelta(days=days)
        deleted[kind], _ = model.objects.filter(**{f"{field}__lt": cutoff}).delete()
    return deleted
