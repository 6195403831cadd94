"""Connector path benchmark: what the market data service adds to each book message after the
venue session has decoded it.

    python -m bench.connector_path --venue okx [--messages 200000] [--depth 20]

The generated stream of `bench.book_path` (same sequencing and injected gaps) is decoded once
by the venue's public session; its events are then fed to an `ExchangeConnector` as the stream
would hand them over: the connector's own book applied, validity and crossing checked, the top
levels kept for the drift check, the top `--depth` levels published as `book_data` (Decimal
strings) through a `FeedPublisher` whose batches go to an in-memory channel layer and cache,
flushed every 1,000 events. The connector publishes a book once per loop turn, after the events
read together: with `--burst 1` every event gets its own turn (a publish per event, the
connector keeping up), with `--burst 10` ten events share one (a consumer reading what piled up
meanwhile). Printed beside the session's own rate over the same messages (the anchor), and the
two together. Like `run_connectors`, the run freezes the start-up heap out of the garbage
collector (`gc.freeze()`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")
    import django

    django.setup()


async def measure(venue_name: str, messages: int, depth: int, burst: int = 1) -> dict:
    from channels.layers import InMemoryChannelLayer
    from django.core.cache.backends.locmem import LocMemCache

    from bench.book_path import SYMBOLS, generate
    from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
    from exchanges.venues.base import BookDelta, BookSnapshot, Endpoints, Venue
    from exchanges.venues.registry import get_adapter
    from exchanges.venues.ws import OfflineLink
    from marketdata import feed
    from marketdata.connectors.books import LiveBook
    from marketdata.connectors.config import WantedExchange, WantedInstrument
    from marketdata.connectors.exchange import ExchangeConnector
    from marketdata.connectors.persist import Persister

    venue = Venue(venue_name)
    lines = generate(venue, messages)
    session = get_adapter(venue).public_session([SYMBOLS[venue]])
    link = OfflineLink()
    session.on_connect(link)
    started = time.perf_counter()
    events = [event for line in lines for event in session.on_message(line, link)]
    decode = time.perf_counter() - started

    symbol = next(e.symbol for e in events if isinstance(e, BookSnapshot))
    listed = next(i for i in DEFAULT_INSTRUMENTS if i.venue is venue and i.symbol == symbol)
    wanted = WantedInstrument(1, listed, True, depth, True, True)
    exchange = WantedExchange(1, f"{venue}-bench", venue, Endpoints("", "", ""), {symbol: wanted})
    publisher = feed.FeedPublisher(
        layer=InMemoryChannelLayer(), cache=LocMemCache("bench", {}), max_pending=10**7
    )
    connector = ExchangeConnector(exchange, publisher=publisher, persister=Persister())
    connector.books[symbol] = LiveBook(symbol, depth=depth, now=connector.now())
    connector.connected = True
    books = sum(1 for e in events if type(e) in (BookSnapshot, BookDelta))
    started = time.perf_counter()
    for n, event in enumerate(events, 1):
        connector.on_event(event)
        if n % burst == 0:
            await asyncio.sleep(0)  # the loop turn in which the connector publishes
        if n % 1000 == 0:
            await publisher.flush()
    await publisher.flush()
    path = time.perf_counter() - started
    return {
        "messages": len(lines),
        "events": len(events),
        "book_events": books,
        "decode_per_s": len(lines) / decode,
        "connector_per_s": len(events) / path,
        "both_per_s": len(lines) / (decode + path),
        "published": publisher.published,
        "rebuilds": dict(connector.health.rebuilds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venue", choices=["okx", "bybit", "deribit"], default="okx")
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--burst", type=int, default=1)
    args = parser.parse_args()
    _django()
    gc.freeze()
    result = asyncio.run(measure(args.venue, args.messages, args.depth, args.burst))
    print(
        f"connector path benchmark: {args.venue}, {result['messages']:,} generated messages, "
        f"{result['book_events']:,} book events, top {args.depth} published, "
        f"{args.burst} event(s) per loop turn"
    )
    print(f"{'':40}{'per second':>14}")
    print(f"{'venue session (decode, apply, checks)':40}{result['decode_per_s']:>14,.0f}")
    print(f"{'connector (book, publish, feed batches)':40}{result['connector_per_s']:>14,.0f}")
    print(f"{'both, per message':40}{result['both_per_s']:>14,.0f}")
    print(f"published {result['published']:,}  rebuilds {result['rebuilds']}")


if __name__ == "__main__":
    main()
