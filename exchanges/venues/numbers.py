"""Exact numbers from wire text, fast: the decoding half of every venue's book path.

Book streams repeat the same price and size texts over and over, and `Decimal` is immutable, so
one `Decimal` per distinct text can be shared (`DecimalCache`). OKX and Bybit send amounts as
JSON strings (looked up in the cache by the stream); Deribit sends JSON numbers, which
`DecimalJsonDecoder` turns into cached Decimals while decoding (never a float).
"""

from __future__ import annotations

import json
import json.scanner
from decimal import Decimal

DEFAULT_CACHE_SIZE = 100_000


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
