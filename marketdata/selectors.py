"""Reads of the market data app: which instrument a (venue, symbol) means, and candles of any
interval built from the stored 1-minute ones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from exchanges.models import Instrument
from marketdata.models import Candle

INTERVALS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
}
MAX_CANDLES = 1_000


class NotListed(LookupError):
    """A (venue, symbol) that names no instrument, or more than one; `field` says which query
    parameter to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def listed_instrument(*, venue: str, symbol: str, exchange: str | None = None) -> Instrument:
    """The active instrument `symbol` (unified) of the enabled exchange of `venue` (or the one
    whose slug is `exchange`). Raises `NotListed` naming the parameter at fault."""
    found = Instrument.objects.select_related("exchange").filter(
        exchange__venue=venue, exchange__enabled=True, symbol=symbol, active=True
    )
    if exchange:
        found = found.filter(exchange__slug=exchange)
    found = list(found[:2])
    if not found:
        return _missing(venue=venue, symbol=symbol, exchange=exchange)
    if len(found) > 1:
        raise NotListed(
            "exchange",
            f"{symbol} is listed by several enabled {venue} exchanges "
            f"({', '.join(i.exchange.slug for i in found)}); name one with exchange=",
        )
    return found[0]


def _missing(*, venue: str, symbol: str, exchange: str | None):
    if exchange:
        raise NotListed("exchange", f"no enabled {venue} exchange {exchange!r} lists {symbol}")
    raise NotListed("symbol", f"no enabled {venue} exchange lists {symbol}")


@dataclass(frozen=True, slots=True)
class Bar:
    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int


def candles(instrument: Instrument, *, interval: str, start: datetime, end: datetime) -> list[Bar]:
    """The `interval` candles of `instrument` from the one holding `start` to the last opening
    before `end`, oldest first, built from the stored 1-minute candles (a bar's open is its
    first minute's open, its close its last minute's close; a minute without trades has no
    candle and adds nothing). Bars are aligned to the interval from the epoch (UTC midnight
    for 1d)."""
    minutes = Candle.objects.filter(
        instrument=instrument,
        interval=Candle.Interval.ONE_MINUTE,
        open_time__gte=floor(start, INTERVALS[interval]),
        open_time__lt=end,
    ).order_by("open_time")
    return aggregate(minutes, INTERVALS[interval])


def floor(moment: datetime, step: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    return moment - (moment - epoch) % step


def aggregate(minutes: Iterable[Candle], step: timedelta) -> list[Bar]:
    """Fold 1-minute candles (oldest first) into bars of `step`."""
    bars: list[Bar] = []
    group: list[Candle] = []
    for candle in minutes:
        if group and floor(candle.open_time, step) != floor(group[0].open_time, step):
            bars.append(_bar(group, step))
            group = []
        group.append(candle)
    if group:
        bars.append(_bar(group, step))
    return bars


def _bar(group: Sequence[Candle], step: timedelta) -> Bar:
    return Bar(
        open_time=floor(group[0].open_time, step),
        open=group[0].open,
        high=max(c.high for c in group),
        low=min(c.low for c in group),
        close=group[-1].close,
        volume=sum((c.volume for c in group), Decimal(0)),
        trades=sum(c.trades for c in group),
    )
