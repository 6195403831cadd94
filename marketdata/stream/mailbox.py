"""One client's outbox: every update in order while the client keeps up, conflated when it
falls behind, so its queue is bounded by its number of channels and never grows with the feed.

The hub calls `offer` for each update of a channel the client reads, synchronously (no await:
a slow client never slows the hub or the others). The client's own writer task takes entries
off the front. While fewer than `conflate_after` entries wait and the writer is not stalled
on a slow socket, each update is a new entry. Behind that, an update of a channel whose
previous update is still unsent replaces it in place (`merge`):

- `book.*`, `ticker.*`, `consolidated.*`: the newer data is the whole latest state;
- `trades.*`: the trades of both, oldest first, keeping the last `feed.RECENT_TRADES`;
- `arbitrage`: per opportunity `id`, the newest row under its newest event, except that an
  opportunity the client has not seen opened stays `opened` until it closes;
- an account's `orders.*`, `positions.*`, `balances.*`: the newest row per order, instrument or
  currency; `fills.*`: every fill (`private.merge_rows`).

Updates of one channel stay in order; a conflated one goes out where the replaced one stood,
carrying `"conflated": n` (how many updates it stands for beyond itself).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from marketdata.feed import ARBITRAGE, RECENT_TRADES, TRADES
from marketdata.stream.private import is_account_channel, merge_rows
from marketdata.stream.risk import RISK, merge_events

CONFLATE_AFTER = 100  # queued entries past which a client counts as behind

UPDATE, CONTROL, SNAPSHOTS = 0, 1, 2
ARBITRAGE_EVENTS = ("opened", "updated", "closed")


class Entry:
    """A queued message. UPDATE: `channel`, `data`, and `text` when it is the shared
    serialization of an unconflated update; CONTROL: `text` only; SNAPSHOTS: `future`, whose
    result is `{channel: data}` of the channels just subscribed."""

    __slots__ = ("channel", "conflated", "data", "future", "kind", "text")

    def __init__(self, kind: int, channel: str = "", data: Any = None, text: str | None = None):
        self.kind = kind
        self.channel = channel
        self.data = data
        self.text = text
        self.conflated = 0
        self.future: asyncio.Future | None = None


def update_text(channel: str, data: Any, kind: str = "update", conflated: int = 0) -> str:
    """The wire text of one channel message (`"snapshot"` or `"update"`)."""
    message: dict[str, Any] = {"channel": channel, "type": kind, "data": data}
    if conflated:
        message["conflated"] = conflated
    return orjson.dumps(message).decode()


def merge_trades(previous: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    trades = [*previous.get("trades", ()), *data.get("trades", ())][-RECENT_TRADES:]
    return {**data, "trades": trades}


def merge_arbitrage(previous: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Two arbitrage updates as one: per opportunity id, its newest row under its newest event
    (an `opened` not yet sent stays `opened` when updated). Rows without an id are kept."""
    events: dict[Any, tuple[str, dict]] = {}
    anonymous: list[tuple[str, dict]] = []
    for update in (previous, data):
        for event in ARBITRAGE_EVENTS:
            for row in update.get(event, ()):
                key = row.get("id") if isinstance(row, Mapping) else None
                if key is None:
                    anonymous.append((event, row))
                    continue
                seen = events.pop(key, None)  # re-inserted: the newest event orders last
                if seen is not None and seen[0] == "opened" and event == "updated":
                    event_now = "opened"
                else:
                    event_now = event
                events[key] = (event_now, row)
    merged: dict[str, list] = {}
    for event, row in [*events.values(), *anonymous]:
        merged.setdefault(event, []).append(row)
    return {event: merged[event] for event in ARBITRAGE_EVENTS if event in merged}


def merge(channel: str, previous: Any, data: Any) -> Any:
    """The one update that stands for `previous` followed by `data` on `channel`."""
    if channel.startswith(TRADES + "."):
        return merge_trades(previous, data)
    if channel == ARBITRAGE:
        return merge_arbitrage(previous, data)
    if is_account_channel(channel):
        return merge_rows(channel, previous, data)
    if channel == RISK:
        return merge_events(previous, data)
    return data


class Mailbox:
    """The conflating outbox of one client (module docstring). Not thread-safe: the hub and the
    writer share one event loop."""

    __slots__ = (
        "_waiter",
        "conflate_after",
        "conflated",
        "max_queue",
        "queue",
        "socket_backlog",
        "stalled",
        "unsent",
    )

    def __init__(self, *, conflate_after: int = CONFLATE_AFTER) -> None:
        self.conflate_after = conflate_after
        self.queue: collections.deque[Entry] = collections.deque()
        self.unsent: dict[str, Entry] = {}  # channel -> its newest queued, unsent update
        self.conflated = 0  # updates this client did not get because a newer one replaced them
        self.max_queue = 0  # the longest the queue has been
        self.stalled = False  # the writer waits for a slow socket to drain
        self.socket_backlog: Callable[[], int] | None = None  # bytes the server holds unsent
        self._waiter: asyncio.Future | None = None

    # -- the hub's side (synchronous) ------------------------------------------------------

    def conflate(self, channel: str, data: Any) -> bool:
        """Merge one update into the channel's unsent one if the client is behind; False
        when it must be queued (`append`) instead."""
        previous = self.unsent.get(channel)
        if previous is None or not (self.stalled or len(self.queue) >= self.conflate_after):
            return False
        previous.data = merge(channel, previous.data, data)
        previous.text = None
        previous.conflated += 1
        self.conflated += 1
        return True

    def append(self, channel: str, data: Any, text: str | None) -> None:
        """Queue one update; `text` is its shared serialization."""
        entry = Entry(UPDATE, channel, data, text)
        queue = self.queue
        queue.append(entry)
        self.unsent[channel] = entry
        if len(queue) > self.max_queue:
            self.max_queue = len(queue)
        self._wake()

    def offer(self, channel: str, data: Any, text: str | None) -> int:
        """`conflate` or else `append`: 1 if the update was conflated, else 0."""
        if self.conflate(channel, data):
            return 1
        self.append(channel, data, text)
        return 0

    # -- the consumer's side ---------------------------------------------------------------

    def control(self, message: Mapping[str, Any]) -> None:
        """Queue a protocol message (ack, error, pong); never conflated."""
        self.queue.append(Entry(CONTROL, text=orjson.dumps(message).decode()))
        self._wake()

    def snapshots(self, future: asyncio.Future) -> None:
        """Queue the snapshots of channels just subscribed, read by `future`: the writer sends
        them here, before any update of those channels queued after."""
        entry = Entry(SNAPSHOTS)
        entry.future = future
        self.queue.append(entry)
        self._wake()

    def drop(self, channels: set[str]) -> None:
        """Forget the queued updates of `channels` (unsubscribed)."""
        if not channels:
            return
        kept = [e for e in self.queue if not (e.kind == UPDATE and e.channel in channels)]
        self.queue = collections.deque(kept)
        for channel in channels:
            self.unsent.pop(channel, None)

    def control_backlog(self) -> int:
        return sum(1 for e in self.queue if e.kind != UPDATE)

    # -- the writer's side -----------------------------------------------------------------

    def take(self) -> Entry:
        """The next entry to send (the queue is not empty)."""
        entry = self.queue.popleft()
        if entry.kind == UPDATE and self.unsent.get(entry.channel) is entry:
            del self.unsent[entry.channel]
        return entry

    async def wait(self) -> None:
        """Until something is queued."""
        if self.queue:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @staticmethod
    def render(entry: Entry) -> str:
        """An UPDATE entry's wire text: the shared one, or its own when conflated."""
        if entry.text is not None:
            return entry.text
        return update_text(entry.channel, entry.data, conflated=entry.conflated)
