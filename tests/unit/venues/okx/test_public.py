"""The OKX public session without sockets: book sequencing, checksums, the snapshot-less start,
keep-alives and resets, subscriptions and the other public channels."""

from __future__ import annotations

import copy
from decimal import Decimal as D

import orjson
import pytest

from exchanges.venues.base import (
    BookDelta,
    BookSnapshot,
    ProtocolError,
    StreamState,
    StreamStatus,
    Ticker,
    Trade,
)
from exchanges.venues.numbers import levels
from exchanges.venues.okx.parse import book_checksum
from exchanges.venues.okx.public import OkxPublicSession
from exchanges.venues.ws import OfflineLink
from tests.plugins.venues import load_payload, load_raw

SNAPSHOT = load_payload("okx", "ws_books_snapshot")
UPDATE = load_payload("okx", "ws_books_update")
INST = "BTC-USDT"


def book_msg(
    action: str, prev: int, seq: int, bids=(), asks=(), checksum: int = 0, inst: str = INST
) -> str:
    return orjson.dumps(
        {
            "arg": {"channel": "books", "instId": inst},
            "action": action,
            "data": [
                {
                    "asks": [list(a) for a in asks],
                    "bids": [list(b) for b in bids],
                    "ts": "1597026383085",
                    "checksum": checksum,
                    "prevSeqId": prev,
                    "seqId": seq,
                }
            ],
        }
    ).decode()


def lvl(px: str, sz: str) -> tuple[str, str, str, str]:
    return (px, sz, "0", "1")


def session(**options) -> OkxPublicSession:
    return OkxPublicSession([INST], trades=False, tickers=False, **options)


def kinds(events) -> list[str]:
    return [
        type(e).__name__ if not isinstance(e, StreamStatus) else f"status:{e.state}" for e in events
    ]


# --------------------------------------------------------------------------- today's form


def test_recorded_messages_chain_when_checksums_are_absent():
    s, link = session(), OfflineLink()
    snap = copy.deepcopy(SNAPSHOT)
    snap["data"][0]["checksum"] = 0
    update = copy.deepcopy(UPDATE)
    update["data"][0]["checksum"] = 0
    (snapshot,) = s.on_message(orjson.dumps(snap), link)
    (delta,) = s.on_message(orjson.dumps(update), link)
    assert isinstance(delta, BookDelta)
    assert (delta.sequence, delta.prev_sequence) == (123457, 123456)
    assert delta.bids == snapshot.bids and delta.asks == snapshot.asks
    assert delta.exchange_ts == 1597026383085 * 1_000_000
    assert s.stats.as_dict() == {
        "checksum_mismatches": 0,
        "gaps": 0,
        "messages": 2,
        "rebuilds": 0,
        "updates_applied": 1,
    }


def test_recorded_checksum_does_not_match_its_eight_levels_and_forces_a_rebuild():
    s, link = session(), OfflineLink()
    events = s.on_message(load_raw("okx", "ws_books_snapshot"), link)
    assert kinds(events) == ["status:resyncing"]
    assert s.stats.checksum_mismatches == 1


def test_updates_apply_in_chain_and_remove_levels():
    s, link = session(), OfflineLink()
    s.on_message(
        book_msg("snapshot", -1, 10, [lvl("100", "1"), lvl("99", "2")], [lvl("101", "3")]), link
    )
    (delta,) = s.on_message(
        book_msg("update", 10, 15, [lvl("99", "0"), lvl("98.5", "4")], [lvl("101", "1.5")]), link
    )
    assert delta.bids == ((D("99"), D("0")), (D("98.5"), D("4")))
    book = s.books[INST].book
    assert book.top(5) == ([(D("100"), D("1")), (D("98.5"), D("4"))], [(D("101"), D("1.5"))])
    assert book.sequence == 15


def test_keep_alive_and_sequence_reset_follow_the_documented_exceptions():
    """docs-v5 "Sequence ID" example: 10 -> 15, keep-alive 15 -> 15, reset 15 -> 3, 3 -> 5."""
    s, link = session(), OfflineLink()
    s.on_message(book_msg("snapshot", -1, 10, [lvl("100", "1")], [lvl("101", "1")]), link)
    assert kinds(s.on_message(book_msg("update", 10, 15, [lvl("100", "2")]), link)) == ["BookDelta"]
    assert s.on_message(book_msg("update", 15, 15), link) == []  # no change, connection alive
    (reset,) = s.on_message(book_msg("update", 15, 3, [lvl("100", "3")]), link)
    assert (reset.prev_sequence, reset.sequence) == (15, 3)
    (after,) = s.on_message(book_msg("update", 3, 5, [], [lvl("101", "2")]), link)
    assert (after.prev_sequence, after.sequence) == (3, 5)
    assert s.stats.gaps == 0 and s.stats.updates_applied == 3


def test_gap_drops_the_book_says_so_and_resubscribes():
    s, link = session(), OfflineLink()
    s.on_message(book_msg("snapshot", -1, 10, [lvl("100", "1")], [lvl("101", "1")]), link)
    events = s.on_message(book_msg("update", 11, 12, [lvl("100", "9")]), link)
    assert kinds(events) == ["status:resyncing"]
    status = events[0]
    assert (status.symbol, status.detail) == ("BTC/USDT", "sequence gap: at 10, got prevSeqId 11")
    assert s.books[INST].book.is_empty
    assert [orjson.loads(m) for m in link.sent] == [
        {"op": "unsubscribe", "args": [{"channel": "books", "instId": INST}]},
        {"op": "subscribe", "args": [{"channel": "books", "instId": INST}]},
    ]
    # until a new snapshot arrives, updates are not applied (no fetcher: nothing to build from)
    assert s.on_message(book_msg("update", 12, 13, [lvl("100", "1")]), link) == []
    (snapshot,) = s.on_message(
        book_msg("snapshot", -1, 20, [lvl("100", "5")], [lvl("101", "1")]), link
    )
    assert snapshot.sequence == 20
    assert kinds(s.on_message(book_msg("update", 20, 21, [lvl("100", "6")]), link)) == ["BookDelta"]
    assert s.stats.as_dict() == {
        "checksum_mismatches": 0,
        "gaps": 1,
        "messages": 5,
        "rebuilds": 1,
        "updates_applied": 1,
    }


# --------------------------------------------------------------------------- older form: checksums


def checksum_of(bids, asks) -> int:
    return book_checksum(levels(bids), levels(asks))


def test_documented_checksum_example_verifies_on_a_snapshot():
    example = load_payload("okx", "checksum_examples_docs")["examples"][0]
    s, link = session(), OfflineLink()
    msg = book_msg(
        "snapshot", -1, 1, example["bids"], example["asks"], checksum=example["checksum"]
    )
    assert kinds(s.on_message(msg, link)) == ["BookSnapshot"]


def test_checksums_are_verified_on_every_update_from_the_wire_text():
    s, link = session(), OfflineLink()
    bids, asks = [lvl("100.10", "1.50"), lvl("100", "2")], [lvl("101", "0.00000001")]
    s.on_message(book_msg("snapshot", -1, 1, bids, asks, checksum=checksum_of(bids, asks)), link)
    after_bids = [lvl("100.10", "1.50"), lvl("99.5", "7")]
    good = checksum_of(after_bids, asks)
    assert kinds(
        s.on_message(
            book_msg("update", 1, 2, [lvl("100", "0"), lvl("99.5", "7")], checksum=good), link
        )
    ) == ["BookDelta"]
    events = s.on_message(book_msg("update", 2, 3, [lvl("99", "1")], checksum=good), link)
    assert kinds(events) == ["status:resyncing"]
    assert events[0].detail == "checksum mismatch at seqId 3"
    assert s.stats.checksum_mismatches == 1 and s.stats.rebuilds == 1


def test_checksum_covers_only_the_best_25_levels():
    s, link = session(), OfflineLink()
    bids = [lvl(str(100 - i), "1") for i in range(30)]
    asks = [lvl(str(101 + i), "1") for i in range(30)]
    s.on_message(book_msg("snapshot", -1, 1, bids, asks, checksum=checksum_of(bids, asks)), link)
    deep_change = [lvl(str(100 - 28), "5")]
    (delta,) = s.on_message(
        book_msg("update", 1, 2, deep_change, checksum=checksum_of(bids, asks)), link
    )
    assert delta.sequence == 2


def test_zero_checksum_means_absent():
    s, link = session(), OfflineLink()
    s.on_message(book_msg("snapshot", -1, 1, [lvl("1", "1")], [lvl("2", "1")], checksum=0), link)
    assert kinds(s.on_message(book_msg("update", 1, 2, [lvl("1", "3")], checksum=0), link)) == [
        "BookDelta"
    ]
    assert s.stats.checksum_mismatches == 0


def test_checksum_verification_can_be_switched_off():
    s, link = session(verify_checksum=False), OfflineLink()
    s.on_message(
        book_msg("snapshot", -1, 1, [lvl("1", "1")], [lvl("2", "1")], checksum=12345), link
    )
    assert kinds(s.on_message(book_msg("update", 1, 2, [lvl("1", "3")], checksum=999), link)) == [
        "BookDelta"
    ]


# --------------------------------------------------------------------------- announced form: no snapshot


def rest_book(seq: int, bids, asks) -> BookSnapshot:
    return BookSnapshot("okx", "BTC/USDT", levels(bids), levels(asks), seq, 7_000_000, 8)


async def settle(link: OfflineLink) -> None:
    while link.tasks:
        task = link.tasks.pop(0)
        await task


async def test_start_from_the_rest_book_and_the_buffered_updates():
    fetched = []

    def fetch(inst_id: str) -> BookSnapshot:
        fetched.append(inst_id)
        return rest_book(15, [lvl("100", "2"), lvl("99", "1")], [lvl("101", "1")])

    s, link = session(snapshot_fetcher=fetch), OfflineLink()
    assert s.on_message(book_msg("update", 5, 10, [lvl("100", "1")]), link) == []
    assert s.on_message(book_msg("update", 10, 15, [lvl("100", "2")]), link) == []
    assert s.on_message(book_msg("update", 15, 18, [lvl("99", "0")]), link) == []
    await settle(link)
    assert fetched == [INST]
    assert kinds(link.events) == ["BookSnapshot", "BookDelta"]
    snapshot, delta = link.events
    assert snapshot.sequence == 15
    assert (delta.prev_sequence, delta.sequence) == (15, 18)
    assert s.books[INST].book.top(3) == ([(D("100"), D("2"))], [(D("101"), D("1"))])
    (live,) = s.on_message(book_msg("update", 18, 19, [lvl("98", "1")]), link)
    assert (live.prev_sequence, live.sequence) == (18, 19)


async def test_snapshot_between_updates_accepts_prev_le_snapshot_lt_seq():
    """The first update applied may start before the snapshot: prevSeqId <= seqId(snap) < seqId."""
    s, link = (
        session(snapshot_fetcher=lambda _: rest_book(12, [lvl("100", "1")], [lvl("101", "1")])),
        OfflineLink(),
    )
    s.on_message(book_msg("update", 5, 10, [lvl("100", "1")]), link)
    await settle(link)  # snapshot at 12: no buffered update is newer yet
    assert kinds(link.events) == ["BookSnapshot"]
    (delta,) = s.on_message(book_msg("update", 10, 14, [lvl("100", "3")]), link)
    assert (delta.prev_sequence, delta.sequence) == (12, 14)
    (nxt,) = s.on_message(book_msg("update", 14, 16, [lvl("100", "4")]), link)
    assert nxt.prev_sequence == 14


async def test_snapshot_older_than_the_stream_is_fetched_again():
    answers = iter(
        [rest_book(3, [lvl("1", "1")], []), rest_book(11, [lvl("100", "1")], [lvl("101", "1")])]
    )
    calls = []

    def fetch(inst_id):
        calls.append(inst_id)
        return next(answers)

    s, link = session(snapshot_fetcher=fetch), OfflineLink()
    s.on_message(book_msg("update", 5, 10, [lvl("100", "1")]), link)
    s.on_message(book_msg("update", 10, 11, [lvl("100", "1")]), link)
    await settle(link)
    assert len(calls) == 2
    assert [e.sequence for e in link.events if isinstance(e, BookSnapshot)] == [11]


async def test_buffer_not_joining_the_snapshot_is_a_gap():
    s, link = (
        session(snapshot_fetcher=lambda _: rest_book(12, [lvl("100", "1")], [])),
        OfflineLink(),
    )
    s.on_message(book_msg("update", 5, 10), link)
    s.on_message(book_msg("update", 13, 14, [lvl("100", "1")]), link)  # 10 -> 13 missing
    await settle(link)
    assert kinds(link.events) == ["BookSnapshot", "status:resyncing"]
    assert s.stats.gaps == 1


async def test_a_websocket_snapshot_supersedes_a_pending_rest_fetch():
    def fetch(inst_id):
        return rest_book(99, [lvl("1", "1")], [])

    s, link = session(snapshot_fetcher=fetch), OfflineLink()
    s.on_message(book_msg("update", 5, 10), link)
    (snapshot,) = s.on_message(
        book_msg("snapshot", -1, 11, [lvl("100", "1")], [lvl("101", "1")]), link
    )
    await settle(link)
    assert link.events == []  # the REST answer belonged to a superseded build
    assert s.books[INST].seq == 11 and snapshot.sequence == 11


async def test_failing_rest_snapshots_end_in_a_resync():
    from exchanges.venues.base import VenueUnavailable

    def fetch(inst_id):
        raise VenueUnavailable("down")

    s, link = session(snapshot_fetcher=fetch, snapshot_attempts=2), OfflineLink()
    s.on_message(book_msg("update", 5, 10), link)
    await settle(link)
    assert kinds(link.events) == ["status:resyncing"]
    assert link.events[0].detail == "no usable REST book snapshot"


# --------------------------------------------------------------------------- other channels


def test_bbo_tbt_is_a_snapshot_every_push():
    s, link = (
        OkxPublicSession([INST], book_channel="bbo-tbt", trades=False, tickers=False),
        OfflineLink(),
    )
    (snapshot,) = s.on_message(load_raw("okx", "ws_bbo_tbt"), link)
    assert snapshot == BookSnapshot(
        "okx",
        "BTC/USDT",
        ((D("8476.97"), D("256")),),
        ((D("8476.98"), D("415")),),
        123456,
        1597026383085 * 1_000_000,
        snapshot.receive_ts,
    )


def test_trades_tickers_and_funding():
    s, link = OkxPublicSession(["BTC-USD"]), OfflineLink()
    (trade,) = s.on_message(load_raw("okx", "ws_trades"), link)
    assert isinstance(trade, Trade) and trade.symbol == "BTC/USD"
    (ticker,) = s.on_message(load_raw("okx", "ws_tickers"), link)
    assert isinstance(ticker, Ticker) and ticker.best_bid == D("8888.88")
    (funding,) = s.on_message(load_raw("okx", "ws_funding_rate"), link)
    assert funding.symbol == "BTC/USDT:USDT" and funding.funding_rate == D("0.0001")


def test_pong_subscribe_ack_and_errors():
    s, link = session(), OfflineLink()
    assert s.on_message("pong", link) == []
    (ack,) = s.on_message(
        '{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}',
        link,
    )
    assert (ack.state, ack.detail, ack.symbol) == (StreamState.SUBSCRIBED, "books", "BTC/USDT")
    with pytest.raises(ProtocolError, match="60012"):
        s.on_message(
            '{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}', link
        )
    with pytest.raises(ProtocolError):
        s.on_message("not json", link)
    with pytest.raises(ProtocolError):
        s.on_message('{"arg":{"channel":"candle1m","instId":"BTC-USDT"},"data":[]}', link)
    with pytest.raises(ProtocolError):
        s.on_message(book_msg("snapshot", -1, 1, [("x", "1", "0", "1")]), link)
    s.on_message('{"event":"notice","code":"64008","msg":"service upgrade","connId":"a"}', link)
    assert link.reconnect_reasons == ["venue notice 64008: service upgrade"]


def test_subscriptions_are_batched_resent_on_connect_and_removed():
    symbols = [f"C{i}-USDT" for i in range(30)]
    s, link = OkxPublicSession(symbols), OfflineLink()
    assert s.ping() == "ping" and s.ping_interval == 20.0 and s.idle_timeout == 30.0
    s.on_connect(link)
    sent = [orjson.loads(m) for m in link.sent]
    assert [len(m["args"]) for m in sent] == [50, 40]
    assert sent[0]["args"][:3] == [
        {"channel": "books", "instId": "C0-USDT"},
        {"channel": "trades", "instId": "C0-USDT"},
        {"channel": "tickers", "instId": "C0-USDT"},
    ]
    link.sent.clear()
    s.add(["C0-USDT", "NEW-USDT"], trades=False, tickers=False)
    assert [orjson.loads(m) for m in link.sent] == [
        {"op": "subscribe", "args": [{"channel": "books", "instId": "NEW-USDT"}]}
    ]
    link.sent.clear()
    s.remove(["C1-USDT"])
    (unsub,) = [orjson.loads(m) for m in link.sent]
    assert unsub["op"] == "unsubscribe" and len(unsub["args"]) == 3
    assert "C1-USDT" not in s.books
    s.on_disconnect()
    link.sent.clear()
    s.add(["LATE-USDT"])
    assert link.sent == []  # sent by the next on_connect


def test_reconnect_starts_every_book_afresh():
    s, link = session(), OfflineLink()
    s.on_message(book_msg("snapshot", -1, 1, [lvl("1", "1")], [lvl("2", "1")]), link)
    s.on_disconnect()
    s.on_connect(link)
    assert s.books[INST].book.is_empty and not s.books[INST].synced


async def test_malformed_buffered_update_ends_in_a_resync_not_a_stuck_book():
    s, link = (
        session(snapshot_fetcher=lambda _: rest_book(12, [lvl("100", "1")], [])),
        OfflineLink(),
    )
    s.on_message(book_msg("update", 5, 10), link)
    s.books[INST].buffer.append({"prevSeqId": 10})  # no seqId
    await settle(link)
    assert kinds(link.events) == ["status:resyncing"]
    assert not s.books[INST].fetching


def test_checksum_on_updates_after_a_snapshot_without_one_is_still_verified():
    s, link = session(), OfflineLink()
    bids, asks = [lvl("100.50", "1"), lvl("100", "2")], [lvl("101", "0.10")]
    s.on_message(book_msg("snapshot", -1, 1, bids, asks, checksum=0), link)
    after = [lvl("100.50", "1"), lvl("100", "3")]
    good = checksum_of(after, asks)
    assert kinds(
        s.on_message(book_msg("update", 1, 2, [lvl("100", "3")], checksum=good), link)
    ) == ["BookDelta"]
    assert kinds(
        s.on_message(book_msg("update", 2, 3, [lvl("100", "4")], checksum=good), link)
    ) == ["status:resyncing"]
