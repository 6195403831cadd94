"""The incrementally kept checksum texts against the from-scratch recipe (`parse.book_checksum`,
itself checked against OKX's documented examples in test_parse.py)."""

import random
from decimal import Decimal as D

import pytest

from exchanges.venues.book import OrderBook, apply_wire_side, decode_wire_levels
from exchanges.venues.numbers import DecimalCache
from exchanges.venues.okx.checksum import ChecksumTexts
from exchanges.venues.okx.parse import book_checksum
from tests.plugins.venues import load_payload


def _wire(price: D, size: str) -> list[str]:
    return [format(price, "f"), size, "0", "1"]


def _random_updates(rng: random.Random, count: int, spread: int):
    """Updates around a mid 100.0: the same price always written the same way (as OKX does),
    sizes "0" removing levels (often at the top, so deeper levels move up)."""
    for _ in range(count):
        sides = []
        for sign in (-1, 1):
            levels = []
            for _ in range(rng.randint(0, 5)):
                price = D("100.0") + sign * D("0.1") * rng.randint(1, spread)
                size = "0" if rng.random() < 0.45 else f"{rng.randint(1, 5000) / 1000}"
                levels.append(_wire(price, size))
            sides.append(levels)
        yield sides


@pytest.mark.parametrize(
    ("depth", "start_levels", "spread"), [(25, 40, 60), (3, 2, 2), (25, 5, 30)]
)
def test_kept_texts_follow_the_book_and_give_the_recipe_checksum(depth, start_levels, spread):
    rng = random.Random(depth * 100 + start_levels)
    prices = DecimalCache()
    raw_bids = [_wire(D("100.0") - D("0.1") * i, "1.5") for i in range(1, start_levels + 1)]
    raw_asks = [_wire(D("100.0") + D("0.1") * i, "2") for i in range(1, start_levels + 1)]
    bids, asks = decode_wire_levels(raw_bids, prices), decode_wire_levels(raw_asks, prices)
    book = OrderBook("BTC-USDT")
    book.apply_snapshot(bids, asks, 1)
    texts = ChecksumTexts(depth)
    texts.start(book.bids, book.asks, bids, asks, raw_bids, raw_asks)
    emptied = short = 0
    for wire_bids, wire_asks in _random_updates(rng, 4000, spread):
        bids = apply_wire_side(book.bids, wire_bids, prices, texts.bid_wire)
        asks = apply_wire_side(book.asks, wire_asks, prices, texts.ask_wire)
        texts.changed(book.bids, book.asks, bids, asks)
        top_bids, top_asks = book.top(depth)
        assert texts.bids.texts[::-1] == [f"{p}:{s}" for p, s in top_bids]
        assert texts.asks.texts == [f"{p}:{s}" for p, s in top_asks]
        if depth == 25:
            assert texts.checksum() == book_checksum(top_bids, top_asks)
        emptied += not book.bids or not book.asks
        short += len(book.bids) < depth or len(book.asks) < depth
    if spread < depth:
        assert emptied  # the small book went empty on the way, and came back
    else:
        assert short  # sides shorter than the checksum depth were covered
    if spread > 2 * depth:
        assert min(len(book.bids), len(book.asks)) > depth  # deeper levels moved up


def test_documented_examples_through_the_kept_texts():
    for example in load_payload("okx", "checksum_examples_docs")["examples"]:
        prices = DecimalCache()
        bids = decode_wire_levels(example["bids"], prices)
        asks = decode_wire_levels(example["asks"], prices)
        book = OrderBook("X")
        book.apply_snapshot(bids, asks, 1)
        texts = ChecksumTexts()
        texts.start(book.bids, book.asks, bids, asks, example["bids"], example["asks"])
        assert texts.checksum() == example["checksum"]
