"""Routing decision benchmark: the pure decision (`orders.routing`) on three venues' books.

    python -m bench.routing [--decisions 5000] [--levels 400] [--seed 1]

Three venues list BTC/USD:BTC with three different quantity units (Deribit BTC-PERPETUAL in
USD, OKX BTC-USD-SWAP in contracts of 100 USD, Bybit BTCUSD in USD), so every decision pays
the conversion of the book side it takes to base currency, as deep as the order reaches
(`routing.levels_in_base`), as the service does, then the walk (`routing.plan_route`). Books of `--levels` levels per side are
seeded random walks around 100000; between decisions a few levels near the top of each book
change, and each decision is a buy or a sell of a random size, some small enough for one venue,
some needing several. Printed: decisions per second and the decision latency p50 and p99 (one
decision: the three conversions and the plan), and how many plans were split.
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal

from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues import quantities
from exchanges.venues.base import Side, Venue
from orders import routing

D = Decimal
PAIR = "BTC/USD:BTC"
TICK = D("0.5")
FEES = {Venue.DERIBIT: D("0.0005"), Venue.OKX: D("0.0005"), Venue.BYBIT: D("0.00055")}


def instruments() -> dict[Venue, object]:
    found = {i.venue: i for i in DEFAULT_INSTRUMENTS if i.symbol == PAIR}
    assert set(found) == set(Venue), f"{PAIR} is not listed on every venue: {sorted(found)}"
    return found


class Books:
    """One venue's seeded random book, sizes in the venue's own unit (USD or contracts)."""

    def __init__(self, rng: random.Random, info, levels: int) -> None:
        self.rng = rng
        self.info = info
        mid = D(100000) + D(rng.randint(-20, 20)) * TICK
        self.bids = [(mid - TICK * (i + 1), self.size()) for i in range(levels)]
        self.asks = [(mid + TICK * (i + 1), self.size()) for i in range(levels)]

    def size(self) -> Decimal:
        usd = D(self.rng.randint(1, 400)) * 100  # 100 to 40000 USD
        return (usd / quantities.unit_value(self.info)).quantize(self.info.lot_size)

    def step(self) -> None:
        for levels in (self.bids, self.asks):
            for _ in range(3):
                i = self.rng.randrange(min(20, len(levels)))
                levels[i] = (levels[i][0], self.size())


def run(decisions: int, levels: int, seed: int = 1) -> dict:
    """`decisions` routing decisions; their latencies (ns) and what they decided."""
    rng = random.Random(seed)
    infos = instruments()
    books = {venue: Books(rng, infos[venue], levels) for venue in sorted(infos)}
    latencies, split, routed, asked = [], 0, D(0), D(0)
    for n in range(decisions):
        for book in books.values():
            book.step()
        side = Side.BUY if n % 2 == 0 else Side.SELL
        quantity = D(rng.randint(1, 300)) / 100  # 0.01 to 3 BTC
        started = time.perf_counter_ns()
        candidates = []
        for venue, book in books.items():
            raw = book.asks if side is Side.BUY else book.bids
            side_levels = routing.levels_in_base(book.info, raw, quantity)
            candidates.append(routing.Candidate(str(venue), book.info, side_levels, FEES[venue]))
        plan = routing.plan_route(
            side=side, quantity=quantity, candidates=candidates, max_slippage_bps=D(50)
        )
        latencies.append(time.perf_counter_ns() - started)
        split += len(plan.children) > 1
        routed += plan.routed
        asked += quantity
    latencies.sort()
    total = sum(latencies)
    return {
        "decisions": decisions,
        "levels": levels,
        "venues": len(books),
        "split": split,
        "routed": routed,
        "asked": asked,
        "per_second": decisions / (total / 1e9) if total else 0.0,
        "p50_us": latencies[len(latencies) // 2] / 1e3,
        "p99_us": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] / 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--levels", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.decisions, args.levels, args.seed)
    print(
        f"routing: {result['decisions']} decisions over {result['venues']} venues' books of "
        f"{result['levels']} levels per side"
    )
    print(f"  decisions/s   {result['per_second']:,.0f}")
    print(f"  latency p50   {result['p50_us']:,.1f} us")
    print(f"  latency p99   {result['p99_us']:,.1f} us")
    print(f"  split plans   {result['split']} of {result['decisions']}")
    print(f"  routed        {result['routed']} of {result['asked']} BTC asked")


if __name__ == "__main__":
    main()
