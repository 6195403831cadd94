"""The ending both kinds of connector share (`exchange.ExchangeConnector` for an exchange's
public stream, `private.AccountConnector` for an account's private one): `stop()` ends the
current life of the stream and no new one starts; the stream is closed once."""

from __future__ import annotations

from typing import Any


class StreamLife:
    """Needs `stream` (the open stream or None), `stopped` (an `asyncio.Event`), `_stopping`
    and `_closed` (bools) on the connector."""

    stream: Any
    _stopping: bool
    _closed: bool

    async def stop(self) -> None:
        """End `run()`: the stream closes and its event iteration ends (what it already
        delivered is still handled)."""
        self._stopping = True
        self.stopped.set()
        await self._close_stream()

    async def _close_stream(self) -> None:
        if self.stream is not None and not self._closed:
            self._closed = True
            await self.stream.close()
