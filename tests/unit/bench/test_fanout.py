"""The fan-out benchmark's pure parts: the synthetic feed's shape, its percentile, its table
and the goal lines."""

from decimal import Decimal

from bench.fanout import CHANNELS, BookFeed, ClientStats, percentile, summarize, table, verdict
from marketdata.feed import BOOK_DEPTH, book_channel, parse_channel


def test_the_feed_serves_the_channels_round_robin_with_decimal_string_books():
    feed = BookFeed(seed=3, variants=4)
    updates = [feed.next() for _ in range(9)]
    names = [book_channel(venue, symbol) for venue, symbol in CHANNELS]
    assert [channel for channel, _ in updates] == [*names, *names, names[0]]
    assert [data["sequence"] for _, data in updates] == list(range(9))
    for channel, data in updates:
        parsed = parse_channel(channel)
        assert (data["venue"], data["symbol"]) == (str(parsed.venue), parsed.symbol)
        assert len(data["bids"]) == len(data["asks"]) == BOOK_DEPTH
        best_bid, best_ask = Decimal(data["bids"][0][0]), Decimal(data["asks"][0][0])
        assert best_ask - best_bid == Decimal("0.2")
        assert all(isinstance(value, str) for level in data["bids"] for value in level)
        assert isinstance(data["stamp"], int)
    assert BookFeed(seed=3, variants=4).next()[1]["bids"] == updates[0][1]["bids"]


def test_percentile_is_the_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def rows_for(delivered_ratio: float):
    clients = [ClientStats(slow=True), ClientStats(slow=False), ClientStats(slow=False)]
    clients[1].received, clients[1].latencies = 100, [1.0, 2.0]
    clients[2].received, clients[2].latencies = 100, [3.0, 4.0]
    clients[0].received, clients[0].latencies = 40, [900.0]
    server = {
        "published": 100,
        "cpu_s": 1.0,
        "max_queue": [12, 1, 0],
        "max_backlog": [131072, 0, 2048],
        "conflated": [55, 0, 0],
    }
    light = summarize("light", server, clients, 5.0, 0.5, 1)
    top = summarize("max", {**server, "published": 1000}, clients, 5.0 / delivered_ratio, 1, 1)
    return light, top


def test_a_phase_row_splits_the_server_figures_into_slow_and_fast_clients():
    light, _ = rows_for(1.0)
    assert light["delivered_s"] == 48.0
    assert (light["fast_p50"], light["fast_p99"], light["worst_fast_p99"]) == (2.0, 4.0, 4.0)
    assert (light["fast_conflated"], light["slow_conflated"]) == (0, 55)
    assert (light["max_queue"], light["max_backlog_kb"]) == (12, 128.0)
    assert (light["fast_max_queue"], light["fast_max_backlog_kb"]) == (1, 2.0)
    assert light["fast_min_received"] == 100
    lines = table([{"server": "bare", **light}]).splitlines()
    assert lines[2].startswith("| bare | light | 20 | 48 | 2.00 | 4.00 | 4.00 | 0 | 1 / 2 | 900 |")


def test_the_goal_lines_say_met_or_missed_with_the_figure():
    bare = rows_for(1.0)
    assert verdict(list(bare), list(rows_for(0.4)), "gateway")[0] == (
        "gateway: max delivered 0.40x bare (MISSED, goal >= 0.5x)"
    )
    assert verdict(list(bare), list(bare), "gateway") == [
        "gateway: max delivered 1.00x bare (met, goal >= 0.5x)",
        "gateway: light fast p99 1.00x bare (met, goal <= 2x)",
        "gateway: every fast client got every light-phase update beside the slow ones: yes "
        "(fewest 100 of 100)",
    ]
