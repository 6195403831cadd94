"""Book path benchmark: raw venue WebSocket messages through the production decoding path.

    python -m bench.book_path --venue okx [--file STREAM.jsonl] [--messages 200000] [--checksum]

Each line of STREAM.jsonl is one raw WebSocket message of the venue. Without `--file` a realistic
stream is generated: one snapshot, then updates that move a few levels near the top at a time,
with the venue's real sequencing (OKX seqId/prevSeqId and, with `--checksum`, the CRC32 of the
top 25 levels; Bybit u/seq; Deribit change_id/prev_change_id) and a few injected sequence gaps.
The stream is fed to the venue's public session (parse, normalize, book apply, sequence and
checksum verification), exactly as the connector does, and compared with bare `orjson.loads`
over the same lines. Reference: cryptofeed's OKX book handler with checksum validation runs at
about 1/18 of bare `orjson.loads`; the target is at least twice that (1/9).
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal
from pathlib import Path

import orjson

from exchanges.venues.base import Venue
from exchanges.venues.registry import get_adapter
from exchanges.venues.ws import OfflineLink

SYMBOLS = {Venue.OKX: "BTC-USDT-SWAP", Venue.BYBIT: "BTCUSDT", Venue.DERIBIT: "BTC-PERPETUAL"}
TICK = Decimal("0.1")


class BookWalk:
    """A seeded random book: a mid that wanders and levels that change near the top."""

    def __init__(self, seed: int, depth: int = 200) -> None:
        self.rng = random.Random(seed)
        self.mid = Decimal("100000.0")
        self.bids = {self.mid - TICK * i: self.size() for i in range(1, depth + 1)}
        self.asks = {self.mid + TICK * i: self.size() for i in range(1, depth + 1)}

    def size(self) -> Decimal:
        return Decimal(self.rng.randint(1, 5000)) / 1000

    def step(self) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        rng = self.rng
        bids, asks = [], []
        for _ in range(rng.randint(1, 6)):
            is_bid = rng.random() < 0.5
            side = self.bids if is_bid else self.asks
            offset = TICK * rng.randint(1, 40)
            price = self.mid - offset if is_bid else self.mid + offset
            size = Decimal(0) if (price in side and rng.random() < 0.3) else self.size()
            if size:
                side[price] = size
            else:
                side.pop(price, None)
            (bids if is_bid else asks).append((price, size))
        return bids, asks

    def top(self, n: int) -> tuple[list, list]:
        return (
            sorted(self.bids.items(), reverse=True)[:n],
            sorted(self.asks.items())[:n],
        )


def _okx_checksum(bids: list, asks: list) -> int:
    from exchanges.venues.okx.parse import book_checksum

    return book_checksum(bids, asks)


def generate(
    venue: Venue, count: int, *, seed: int = 1, gap_every: int = 20_000, checksum: bool = False
) -> list[bytes]:
    walk = BookWalk(seed)
    symbol = SYMBOLS[venue]
    lines: list[bytes] = []
    ts = 1_764_000_000_000
    seq = 1_000_000
    bids, asks = walk.top(400)
    lines.append(_encode(venue, symbol, "snapshot", bids, asks, seq, -1, ts, walk, checksum))
    resnapshot_at = None
    for n in range(1, count):
        ts += 7
        prev = seq
        seq += 1
        if n == resnapshot_at:
            # what the venue sends after the session resubscribed: a fresh snapshot
            bids, asks = walk.top(400)
            lines.append(
                _encode(venue, symbol, "snapshot", bids, asks, seq, -1, ts, walk, checksum)
            )
            continue
        bids, asks = walk.step()
        if gap_every and n % gap_every == 0:
            prev, seq = seq, seq + 1  # the message before this one was lost: a gap
            resnapshot_at = n + 3
        lines.append(_encode(venue, symbol, "update", bids, asks, seq, prev, ts, walk, checksum))
    return lines


def _levels(levels) -> list[list[str]]:
    return [[str(price), str(size)] for price, size in levels]


def _encode(venue, symbol, kind, bids, asks, seq, prev, ts, walk, checksum) -> bytes:
    if venue is Venue.OKX:
        crc = _okx_checksum(*walk.top(25)) if checksum else 0
        data = {
            "asks": [[p, s, "0", "1"] for p, s in _levels(asks)],
            "bids": [[p, s, "0", "1"] for p, s in _levels(bids)],
            "ts": str(ts),
            "checksum": crc,
            "prevSeqId": prev,
            "seqId": seq,
        }
        return orjson.dumps(
            {"arg": {"channel": "books", "instId": symbol}, "action": kind, "data": [data]}
        )
    if venue is Venue.BYBIT:
        return orjson.dumps(
            {
                "topic": f"orderbook.200.{symbol}",
                "type": "snapshot" if kind == "snapshot" else "delta",
                "ts": ts,
                "data": {
                    "s": symbol,
                    "b": _levels(bids),
                    "a": _levels(asks),
                    "u": seq,
                    "seq": seq * 7,
                },
                "cts": ts - 2,
            }
        )
    entries = lambda levels: [  # noqa: E731
        [
            "delete" if not size else ("new" if kind == "snapshot" else "change"),
            _number(price),
            _number(size),
        ]
        for price, size in levels
    ]
    data = {
        "type": "snapshot" if kind == "snapshot" else "change",
        "timestamp": ts,
        "instrument_name": symbol,
        "change_id": seq,
        "bids": entries(bids),
        "asks": entries(asks),
    }
    if kind != "snapshot":
        data["prev_change_id"] = prev
    text = orjson.dumps(
        {
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {"channel": f"book.{symbol}.100ms", "data": data},
        }
    )
    return text.replace(b'"#', b"").replace(b'#"', b"")


def _number(value: Decimal) -> str:
    """Deribit sends JSON numbers: mark the text so it is written without quotes."""
    return f"#{value}#"


def run(venue: Venue, lines: list[bytes]) -> dict:
    started = time.perf_counter()
    for line in lines:
        orjson.loads(line)
    bare = time.perf_counter() - started

    adapter = get_adapter(venue)
    session = adapter.public_session([SYMBOLS[venue]])
    link = OfflineLink()
    session.on_connect(link)
    events = 0
    started = time.perf_counter()
    for line in lines:
        events += len(session.on_message(line, link))
    ours = time.perf_counter() - started
    stats = session.stats
    return {
        "messages": len(lines),
        "orjson_per_s": len(lines) / bare,
        "ours_per_s": len(lines) / ours,
        "events": events,
        "stats": stats.as_dict(),
        "resubscribes": len(link.sent) + len(link.reconnect_reasons),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venue", choices=[v.value for v in Venue], default="okx")
    parser.add_argument("--file", type=Path)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--checksum", action="store_true", help="OKX: real CRC32 checksums (the older protocol)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    venue = Venue(args.venue)
    if args.file:
        lines = [line for line in args.file.read_bytes().splitlines() if line.strip()]
        source = str(args.file)
    else:
        lines = generate(venue, args.messages, seed=args.seed, checksum=args.checksum)
        source = f"generated ({args.messages} messages, seed {args.seed}{', checksums' if args.checksum else ''})"
    result = run(venue, lines)
    ratio = result["orjson_per_s"] / result["ours_per_s"]
    stats = result["stats"]
    print(f"book path benchmark: {venue} — {source}")
    print(f"{'':32}{'messages/s':>14}{'vs orjson':>12}")
    print(f"{'bare orjson.loads':32}{result['orjson_per_s']:>14,.0f}{'1/1':>12}")
    print(f"{'gateway book path':32}{result['ours_per_s']:>14,.0f}{f'1/{ratio:.1f}':>12}")
    print(f"{'cryptofeed OKX (reference)':32}{result['orjson_per_s'] / 18:>14,.0f}{'1/18':>12}")
    print(f"{'target (2x cryptofeed)':32}{result['orjson_per_s'] / 9:>14,.0f}{'1/9':>12}")
    print(
        f"updates applied {stats['updates_applied']:,}  sequence gaps {stats['gaps']}  "
        f"checksum mismatches {stats['checksum_mismatches']}  rebuilds {stats['rebuilds']}  "
        f"events {result['events']:,}"
    )


if __name__ == "__main__":
    main()
