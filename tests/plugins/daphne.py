"""A real daphne server serving the ASGI app on a free 127.0.0.1 port, for tests over real
sockets (`live_daphne`, one per test process: Twisted's reactor runs once per process)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest


class LiveDaphne:
    """daphne serving the ASGI app on a free 127.0.0.1 port, on its own thread and loop (the
    Twisted reactor runs once per process, so one server serves every test of a worker)."""

    def __init__(self) -> None:
        from daphne.server import Server

        from gateway_site.asgi import application

        self.server = Server(
            application=application,
            endpoints=["tcp:port=0:interface=127.0.0.1"],
            signal_handlers=False,
        )
        self.thread = threading.Thread(target=self.server.run, name="daphne", daemon=True)
        self.thread.start()
        for _ in range(500):
            if self.server.listening_addresses:
                break
            threading.Event().wait(0.01)
        host, port = self.server.listening_addresses[0]
        self.url = f"ws://{host}:{port}/ws/stream"
        from twisted.internet import reactor

        self.reactor = reactor
        self.loop = reactor._asyncioEventloop

    async def run(self, coroutine) -> Any:
        """Run `coroutine` on the server's loop (its channel layer and hub live there)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def stop(self) -> None:
        self.reactor.callFromThread(self.reactor.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_daphne() -> LiveDaphne:
    server = LiveDaphne()
    yield server
    server.stop()
