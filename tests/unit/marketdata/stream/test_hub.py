"""The hub's fan-out: one serialization per update shared by every client that keeps up, none
when every reader is behind, and a client behind never changes what the others get."""

from __future__ import annotations

import orjson
from prometheus_client import REGISTRY

from marketdata.stream.hub import Hub
from marketdata.stream.mailbox import Mailbox

BOOK = "book.okx.BTC/USDT:USDT"


def conflated_total() -> float:
    return REGISTRY.get_sample_value("gateway_ws_conflated_total") or 0.0


async def test_every_client_keeping_up_queues_the_same_text():
    hub = Hub(layer=None)
    boxes = [Mailbox(), Mailbox(), Mailbox()]
    for box in boxes:
        hub.subscribe(box, [BOOK])
    hub.fan_out([[BOOK, {"n": 1}], ["book.okx.ETH/USDT:USDT", {"n": 2}]])
    texts = [box.take().text for box in boxes]
    assert texts[0] is texts[1] is texts[2]
    assert orjson.loads(texts[0]) == {"channel": BOOK, "type": "update", "data": {"n": 1}}
    assert hub.updates == 1  # the other channel has no reader here


async def test_a_client_behind_is_conflated_and_the_others_get_every_update():
    hub = Hub(layer=None)
    fast, slow = Mailbox(conflate_after=2), Mailbox(conflate_after=2)
    hub.subscribe(fast, [BOOK])
    hub.subscribe(slow, [BOOK])
    before = conflated_total()
    received = []
    for n in range(10):
        hub.fan_out([[BOOK, {"n": n}]])
        received.append(orjson.loads(fast.render(fast.take()))["data"]["n"])
    assert received == list(range(10))
    assert [entry.data for entry in slow.queue] == [{"n": 0}, {"n": 9}]
    assert (slow.conflated, hub.conflated, conflated_total() - before) == (8, 8, 8)


async def test_no_serialization_when_every_reader_is_behind():
    hub = Hub(layer=None)
    box = Mailbox(conflate_after=1)
    hub.subscribe(box, [BOOK])
    hub.fan_out([[BOOK, {"n": 0}]])
    hub.fan_out([[BOOK, {"n": 1}]])
    [entry] = box.queue
    assert (entry.text, entry.data, entry.conflated) == (None, {"n": 1}, 1)


async def test_unsubscribed_and_detached_clients_get_nothing():
    hub = Hub(layer=None)
    stays, leaves, detached = Mailbox(), Mailbox(), Mailbox()
    for box in (stays, leaves, detached):
        hub.subscribe(box, [BOOK])
    hub.unsubscribe(leaves, [BOOK])
    hub.detach(detached)
    hub.fan_out([[BOOK, {"n": 1}]])
    assert [len(box.queue) for box in (stays, leaves, detached)] == [1, 0, 0]
    assert hub.subscribers == {BOOK: {stays: None}}
