"""The routing benchmark's small run: every decision is made and counted, and converting a book
only as deep as the order reaches decides exactly as converting all of it."""

import random
from decimal import Decimal as D

from bench.routing import FEES, Books, instruments, run
from exchanges.venues.base import Side
from marketdata.aggregation import book_in_base
from orders import routing


def test_a_small_run_counts_every_decision():
    result = run(decisions=60, levels=50, seed=2)
    assert (result["decisions"], result["levels"], result["venues"]) == (60, 50, 3)
    # seeded: the same books and orders every run, so the same decisions
    assert (result["split"], result["routed"], result["asked"]) == (
        22,
        D("93.425085618835"),
        D("93.44"),
    )
    assert result["p50_us"] <= result["p99_us"]


def test_converting_only_as_deep_as_needed_decides_as_the_whole_book():
    rng = random.Random(7)
    infos = instruments()
    books = {venue: Books(rng, infos[venue], 100) for venue in sorted(infos)}
    for n in range(30):
        side = Side.BUY if n % 2 else Side.SELL
        quantity = D(rng.randint(1, 400)) / 100
        lazy, full = [], []
        for venue, book in books.items():
            raw = book.asks if side is Side.BUY else book.bids
            whole = book_in_base(book.info, book.bids, book.asks)
            lazy.append(
                routing.Candidate(
                    str(venue),
                    book.info,
                    routing.levels_in_base(book.info, raw, quantity),
                    FEES[venue],
                )
            )
            full.append(
                routing.Candidate(
                    str(venue),
                    book.info,
                    whole.asks if side is Side.BUY else whole.bids,
                    FEES[venue],
                )
            )
        given = {"side": side, "quantity": quantity, "max_slippage_bps": D(50)}
        assert routing.plan_route(candidates=lazy, **given) == routing.plan_route(
            candidates=full, **given
        )
        for book in books.values():
            book.step()
