"""Exact numbers from the wire: the Decimal helpers every venue's `parse.py` uses, and the
fast decoding half of every venue's book path.

`dec`, `opt_dec`, `dec_or_zero`, `nonzero_or_none`, `first_dec`, `ms_ns` and `levels` take an
amount as the venue sent it: a JSON string (OKX, Bybit: `"42.5"`, `""` for "not set") or an
already decoded number (Deribit: `Decimal` or exact `int`, see `DecimalJsonDecoder`), never a
float.

Book streams repeat the same price and size texts over and over, and `Decimal` is immutable, so
one `Decimal` per distinct text can be shared (`DecimalCache`). OKX and Bybit send amounts as
JSON strings (looked up in the cache by the stream); Deribit sends JSON numbers, which
`DecimalJsonDecoder` turns into cached Decimals while decoding (never a float).
"""

from __future__ import annotations

import json
import json.scanner
from collections.abc import Iterable, Sequence
from decimal import Decimal

from exchanges.venues.base import ZERO, PriceLevel, ProtocolError

DEFAULT_CACHE_SIZE = 100_000
NS_PER_MS = 1_000_000


def dec(value: object) -> Decimal:
    """The Decimal of a required amount: number text, or a decoded `Decimal` / `int`."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return Decimal(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise ProtocolError(f"not a number: {value!r}")


def opt_dec(value: object) -> Decimal | None:
    """An optional amount: None or "" (not set) is None."""
    return None if value is None or value == "" else dec(value)


def dec_or_zero(value: object) -> Decimal:
    """An amount where None or "" means zero (Bybit sends "" for unset amounts)."""
    return ZERO if value is None or value == "" else dec(value)


def nonzero_or_none(value: object) -> Decimal | None:
    """A price where zero, None or "" means "none" (Bybit: market orders, flat positions)."""
    if value is None or value == "":
        return None
    price = dec(value)
    return price if price else None


def first_dec(*values: object) -> Decimal | None:
    """The first set one (not None, not "") of several alternative fields, as a Decimal."""
    for value in values:
        if value is not None and value != "":
            return dec(value)
    return None


def ms_ns(value: object) -> int:
    """Milliseconds since the epoch (text or int) as ns; None or "" (not sent) is 0."""
    return int(value) * NS_PER_MS if value is not None and value != "" else 0


def levels(raw_levels: Iterable[Sequence]) -> tuple[PriceLevel, ...]:
    """`[[price, size, ...], ...]` -> `((price, size), ...)` in the order sent (REST books and
    snapshots; extra fields such as OKX's order counts are ignored)."""
    return tuple([(dec(level[0]), dec(level[1])) for level in raw_levels])


class DecimalCache(dict):
    """Number text -> `Decimal`, bounded: emptied when it holds `limit` texts.

    `cache[text]` is always `Decimal(text)` (the same object for the same text while it is
    cached). `cache.get(text)` is the cheaper probe on a hot path, with `cache[text]` on a miss.
    """

    __slots__ = ("limit",)

    def __init__(self, limit: int = DEFAULT_CACHE_SIZE) -> None:
        super().__init__()
        if limit < 1:
            raise ValueError("a DecimalCache holds at least one text")
        self.limit = limit

    def __missing__(self, text: str) -> Decimal:
        if len(self) >= self.limit:
            self.clear()
        value = self[text] = Decimal(text)
        return value


class DecimalJsonDecoder:
    """JSON text -> Python objects, every number with a fraction or exponent as a cached
    `Decimal` and whole numbers as exact ints (for venues that send amounts as JSON numbers).

    The C scanner is called directly: the stdlib `JSONDecoder.decode` wrapper adds a regex pass
    for surrounding whitespace on every call. Text the scanner does not consume whole (padding,
    trailing junk, invalid JSON) goes through the full decoder, which also gives the error.
    """

    __slots__ = ("_decoder", "_scan", "cache")

    def __init__(self, cache: DecimalCache | None = None) -> None:
        self.cache = cache if cache is not None else DecimalCache()
        self._decoder = json.JSONDecoder(parse_float=self.cache.__getitem__)
        self._scan = json.scanner.make_scanner(self._decoder)

    def decode(self, raw: str | bytes | bytearray | memoryview) -> object:
        """Decode one document; raises `ValueError` (`json.JSONDecodeError`) when it is not JSON."""
        text = raw if type(raw) is str else bytes(raw).decode()
        try:
            value, end = self._scan(text, 0)
        except StopIteration:
            return self._decoder.decode(text)
        if end != len(text):
            return self._decoder.decode(text)
        return value
