"""The account channels' rows in a client's outbox: conflated per row key for a client that is
behind (fills never), and an update the snapshot already held in that state left out."""

from __future__ import annotations

import pytest

from marketdata.feed import ChannelError
from marketdata.stream.mailbox import Mailbox, merge
from marketdata.stream.private import AccountChannel, SnapshotRows, parse_account_channel


def order(pk: int, status: str, at: str) -> dict:
    return {"id": pk, "status": status, "updated_at": at}


def test_channel_names():
    assert parse_account_channel("orders") == AccountChannel("orders")
    assert parse_account_channel("fills.12") == AccountChannel("fills", 12)
    assert parse_account_channel("book.okx.BTC/USDT:USDT") is None
    for bad in ("orders.", "orders.x", "orders.07", "orders.-1"):
        with pytest.raises(ChannelError):
            parse_account_channel(bad)


def test_a_client_behind_gets_the_newest_row_per_key_and_every_fill():
    first = {"account": 7, "orders": [order(1, "new", "2026-12-03T10:00:00Z")]}
    second = {
        "account": 7,
        "orders": [
            order(2, "new", "2026-12-03T10:00:01Z"),
            order(1, "filled", "2026-12-03T10:00:02Z"),
        ],
    }
    assert merge("orders.7", first, second) == {
        "account": 7,
        "orders": [
            order(1, "filled", "2026-12-03T10:00:02Z"),
            order(2, "new", "2026-12-03T10:00:01Z"),
        ],
    }
    fills = merge(
        "fills.7", {"account": 7, "fills": [{"id": 1}]}, {"account": 7, "fills": [{"id": 2}]}
    )
    assert fills == {"account": 7, "fills": [{"id": 1}, {"id": 2}]}
    box = Mailbox(conflate_after=1)
    box.offer("orders.7", first, None)
    assert box.offer("orders.7", second, None) == 1
    (entry,) = box.queue
    assert (entry.conflated, [r["id"] for r in entry.data["orders"]]) == (1, [1, 2])


def test_an_update_the_snapshot_held_is_left_out_until_the_row_moves_on():
    rows = SnapshotRows()
    rows.remember("orders.7", {"account": 7, "orders": [order(1, "new", "2026-12-03T10:00:00Z")]})
    rows.remember("fills.7", {"account": 7, "fills": [{"id": 5}]})
    same = {"account": 7, "orders": [order(1, "new", "2026-12-03T10:00:00Z")]}
    assert rows.keep("orders.7", same) is None
    other = {"account": 7, "orders": [order(2, "new", "2026-12-03T09:59:00Z")]}
    assert rows.keep("orders.7", other) == other  # not in the snapshot: sent
    newer = {"account": 7, "orders": [order(1, "canceled", "2026-12-03T10:00:01Z")]}
    assert rows.keep("orders.7", newer) == newer
    assert "orders.7" not in rows  # every snapshot row has moved on: no more filtering
    assert rows.keep("fills.7", {"account": 7, "fills": [{"id": 5}, {"id": 6}]}) == {
        "account": 7,
        "fills": [{"id": 6}],
    }
