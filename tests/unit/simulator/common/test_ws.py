"""The one WebSocket connection type of the faces: queue, writer, finish, drop, idle watch,
overflow and private pushes (common/ws.py), on a recording stand-in for the aiohttp socket."""

from __future__ import annotations

import asyncio

from aiohttp import WSMsgType

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.common.ws import NORMAL_CLOSE, Connection
from tests.support.harness import eventually


class FakeSocket:
    """What `Connection` uses of `web.WebSocketResponse`: frames sent, the close it got."""

    def __init__(self, *, fail_sends: bool = False) -> None:
        self.frames: list[bytes] = []
        self.closed = False
        self.close_code: int | None = None
        self.close_message: bytes | None = None
        self.fail_sends = fail_sends

    async def send_frame(self, data: bytes, opcode: WSMsgType) -> None:
        assert opcode is WSMsgType.TEXT
        if self.fail_sends:
            raise ConnectionResetError("peer gone")
        self.frames.append(data)

    async def close(self, *, code: int, message: bytes) -> None:
        self.closed = True
        self.close_code, self.close_message = code, message


class FakeTransport:
    def __init__(self) -> None:
        self.aborted = 0

    def abort(self) -> None:
        self.aborted += 1


def connection(faults: Faults | None = None, **kwargs) -> Connection:
    return Connection(
        ws=FakeSocket(**kwargs.pop("socket", {})),
        transport=FakeTransport(),
        faults=faults or Faults(),
        conn_id="c1",
        **kwargs,
    )


async def test_the_writer_sends_the_queue_in_order_as_text_frames():
    conn = connection()
    writer = conn.start("test-writer")
    conn.send(b'{"a":1}')
    conn.send("pong")
    await eventually(lambda: len(conn.ws.frames) == 2)
    assert conn.ws.frames == [b'{"a":1}', b"pong"]
    assert not conn.queue
    await conn.stop_writer()
    assert writer.done()


async def test_finish_sends_what_is_queued_then_closes_normally_and_refuses_more():
    conn = connection()
    conn.send(b"last answer")
    conn.finish()
    conn.send(b"too late")
    conn.start("test-writer")
    await eventually(lambda: conn.ws.closed)
    assert conn.ws.frames == [b"last answer"]
    assert (conn.ws.close_code, conn.ws.close_message) == (NORMAL_CLOSE, b"")
    assert conn.closed and conn.transport.aborted == 0


async def test_drop_aborts_the_tcp_connection_without_a_close_frame():
    conn = connection()
    conn.send(b"never sent")
    conn.drop()
    assert conn.transport.aborted == 1
    assert conn.ws.closed is False and conn.ws.close_code is None
    assert conn.closed and conn.closing and not conn.queue
    conn.send(b"after the drop")
    assert not conn.queue


async def test_the_drop_fault_aborts_instead_of_sending():
    faults = Faults(drop_ws_probability=1.0)
    conn = connection(faults)
    conn.start("test-writer")
    conn.send(b"doomed")
    await eventually(lambda: conn.transport.aborted == 1)
    assert conn.ws.frames == []
    assert conn.ws.close_code is None
    assert faults.fired == {"drop_ws_probability": 1}


async def test_a_failed_send_drops_the_connection():
    conn = connection(socket={"fail_sends": True})
    conn.start("test-writer")
    conn.send(b"x")
    await eventually(lambda: conn.transport.aborted == 1)
    assert conn.closed


async def test_close_sends_the_code_and_reason():
    conn = connection()
    await conn.close(4004, "No data received in 30s")
    assert (conn.ws.close_code, conn.ws.close_message) == (4004, b"No data received in 30s")
    assert conn.closed and conn.transport.aborted == 0


async def test_a_full_queue_closes_with_the_overflow_code():
    conn = connection(max_queue=2, overflow=(4005, "Buffer is full, cannot write data"))
    for payload in (b"1", b"2", b"3"):
        conn.send(payload)
    assert conn.closed and not conn.queue
    await eventually(lambda: conn.ws.closed)
    assert (conn.ws.close_code, conn.ws.close_message) == (
        4005,
        b"Buffer is full, cannot write data",
    )


async def test_watch_idle_closes_a_quiet_connection_and_activity_keeps_it():
    conn = connection()
    conn.start("test-writer")
    limit = [0.2]
    watch = asyncio.create_task(conn.watch_idle(lambda: limit[0], 4004, "idle"))
    loop = asyncio.get_running_loop()
    kept_until = loop.time() + 0.4
    while loop.time() < kept_until:
        conn.touch()
        await asyncio.sleep(0.02)  # pacing the client's activity, not waiting for an answer
    assert not conn.ws.closed
    await asyncio.wait_for(watch, 2)
    assert (conn.ws.close_code, conn.ws.close_message) == (4004, b"idle")
    assert loop.time() - conn.last_active >= limit[0]


async def test_push_private_applies_the_duplicate_fault_through_the_queue():
    faults = Faults(duplicate_private=1)
    conn = connection(faults)
    conn.push_private(b"fill", loop=asyncio.get_running_loop(), hold_s=1.0)
    conn.push_private(b"order", loop=asyncio.get_running_loop(), hold_s=1.0)
    assert list(conn.queue) == [b"fill", b"fill", b"order"]
    assert faults.fired == {"duplicate_private": 1}
