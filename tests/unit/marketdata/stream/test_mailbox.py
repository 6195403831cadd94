"""The conflating mailbox: every update in order while the client keeps up; behind that, each
channel's unsent update replaced (books, tickers), merged (trades, arbitrage), counted."""

from __future__ import annotations

import orjson

from marketdata.feed import RECENT_TRADES
from marketdata.stream.mailbox import CONTROL, UPDATE, Mailbox, merge_arbitrage, update_text

BOOK, TICKER, TRADES = "book.okx.BTC/USDT:USDT", "ticker.okx.BTC/USDT:USDT", "trades.okx.BTC/USDT"


def offer(box: Mailbox, channel: str, data: dict) -> int:
    return box.offer(channel, data, update_text(channel, data))


def drain(box: Mailbox) -> list[dict]:
    sent = []
    while box.queue:
        entry = box.take()
        assert entry.kind in (UPDATE, CONTROL)
        sent.append(orjson.loads(box.render(entry) if entry.kind == UPDATE else entry.text))
    return sent


def test_a_client_that_keeps_up_gets_every_update_in_order_with_the_shared_text():
    box = Mailbox(conflate_after=3)
    texts = []
    for n in range(10):
        text = update_text(BOOK, {"n": n})
        texts.append(text)
        assert box.offer(BOOK, {"n": n}, text) == 0
        entry = box.take()
        assert box.render(entry) is text  # the hub's one serialization, not a copy
    assert box.conflated == 0
    assert box.max_queue == 1


def test_behind_a_channels_unsent_update_is_replaced_and_the_queue_stays_bounded():
    box = Mailbox(conflate_after=3)
    results = [offer(box, BOOK, {"n": n}) for n in range(3)]
    results += [offer(box, TICKER, {"t": 0})]  # a channel with nothing unsent is still queued
    results += [offer(box, BOOK, {"n": n}) for n in range(3, 1000)]
    results += [offer(box, TICKER, {"t": t}) for t in range(1, 50)]
    box.control({"type": "pong"})
    assert results == [0, 0, 0, 0] + [1] * 997 + [1] * 49
    assert box.conflated == 997 + 49
    assert len(box.queue) == 5
    assert box.max_queue == 4
    assert drain(box) == [
        {"channel": BOOK, "type": "update", "data": {"n": 0}},
        {"channel": BOOK, "type": "update", "data": {"n": 1}},
        {"channel": BOOK, "type": "update", "data": {"n": 999}, "conflated": 997},
        {"channel": TICKER, "type": "update", "data": {"t": 49}, "conflated": 49},
        {"type": "pong"},
    ]
    # caught up: every update again
    assert offer(box, BOOK, {"n": 1000}) == 0
    assert drain(box) == [{"channel": BOOK, "type": "update", "data": {"n": 1000}}]


def test_a_stalled_writer_conflates_at_once():
    box = Mailbox(conflate_after=100)
    box.stalled = True
    assert [offer(box, BOOK, {"n": n}) for n in range(4)] == [0, 1, 1, 1]
    assert drain(box) == [{"channel": BOOK, "type": "update", "data": {"n": 3}, "conflated": 3}]


def test_trades_merge_keeping_the_last_recent_trades():
    box = Mailbox(conflate_after=0)
    offer(box, TRADES, {"venue": "okx", "trades": [{"trade_id": "0"}]})
    for n in range(1, 150, 2):
        offer(
            box,
            TRADES,
            {"venue": "okx", "trades": [{"trade_id": str(n)}, {"trade_id": str(n + 1)}]},
        )
    [message] = drain(box)
    ids = [trade["trade_id"] for trade in message["data"]["trades"]]
    assert ids == [str(n) for n in range(151 - RECENT_TRADES, 151)]
    assert message["conflated"] == 75


def test_arbitrage_merges_per_opportunity():
    merged = merge_arbitrage(
        {"opened": [{"id": 1, "edge": "5"}, {"id": 2, "edge": "6"}], "updated": [{"id": 3}]},
        {
            "updated": [{"id": 1, "edge": "7"}, {"id": 3, "edge": "1"}],
            "closed": [{"id": 2, "edge": "6"}],
            "opened": [{"id": 4}],
        },
    )
    assert merged == {
        "opened": [{"id": 4}, {"id": 1, "edge": "7"}],
        "updated": [{"id": 3, "edge": "1"}],
        "closed": [{"id": 2, "edge": "6"}],
    }


def test_dropping_channels_forgets_their_queued_updates():
    box = Mailbox(conflate_after=1)
    offer(box, BOOK, {"n": 0})
    offer(box, TICKER, {"t": 0})
    offer(box, BOOK, {"n": 1})
    box.drop({BOOK})
    assert offer(box, BOOK, {"n": 2}) == 0  # nothing unsent of it any more: queued anew
    assert drain(box) == [
        {"channel": TICKER, "type": "update", "data": {"t": 0}},
        {"channel": BOOK, "type": "update", "data": {"n": 2}},
    ]
