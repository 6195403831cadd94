"""The README's `/ws/stream` example runs as written against a real server (only the port and
the token differ) while books are published."""

from __future__ import annotations

import asyncio
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from marketdata.feed import FeedPublisher, book_data
from tests.integration.stream.conftest import OKX_BOOK

README = Path(__file__).resolve().parents[3] / "README.md"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


async def publish_book(n: int) -> None:
    publisher = FeedPublisher()
    bids = [(Decimal("100000.5") - n, Decimal("1.25"))]
    asks = [(Decimal("100001.0") - n, Decimal("0.5"))]
    data = book_data("okx", "BTC/USDT:USDT", bids, asks, sequence=n, exchange_ts=0, receive_ts=0)
    publisher.publish(OKX_BOOK, data)
    await publisher.flush()


async def test_the_stream_example_runs(daphne, viewer_token):
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
        if "/ws/stream" in block
    ]
    url = daphne.url.replace("ws://", "")
    script = example.replace("127.0.0.1:8000/ws/stream", url).replace("YOUR_TOKEN", viewer_token)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    n = 0
    while process.returncode is None and n < 2_000:
        n += 1
        await daphne.run(publish_book(n))
        try:
            await asyncio.wait_for(process.wait(), 0.02)
        except TimeoutError:
            continue
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0] == (
        "{'type': 'subscribed', 'channels': ['book.okx.BTC/USDT:USDT', 'trades.okx.BTC/USDT:USDT']}"
    )
    assert len(lines) == 6
    for line in lines[1:]:
        kind, channel, bid, ask, conflated = line.split()
        assert (kind in ("snapshot", "update"), channel, conflated) == (True, OKX_BOOK, "0")
        assert Decimal(ask) - Decimal(bid) == Decimal("0.5")
