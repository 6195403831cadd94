"""The venue's clock as seen from here: local time plus an offset measured from its server time.

Signatures carry a timestamp the venue only accepts near its own clock (OKX 30 s, error 50102;
Bybit `recv_window`, error 10002; Deribit 60 s for `client_signature`), so every adapter signs
with local time corrected by the offset measured from the venue's server-time endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def measure_offset(server_time_ns: Callable[[], int]) -> int:
    """Server minus local time (ns) from one call of `server_time_ns`, the server's time
    taken to be that of the middle of the round trip."""
    sent = time.time_ns()
    server = server_time_ns()
    received = time.time_ns()
    return server - (sent + received) // 2


class Clock:
    """Local time corrected by the measured offset to the venue's clock."""

    __slots__ = ("offset_ns",)

    def __init__(self, offset_ns: int = 0) -> None:
        self.offset_ns = offset_ns

    def now_ns(self) -> int:
        return time.time_ns() + self.offset_ns

    def now_ms(self) -> int:
        return self.now_ns() // 1_000_000

    def update(self, server_ns: int, sent_ns: int, received_ns: int) -> int:
        """Set the offset from one round trip (server time taken at its midpoint)."""
        self.offset_ns = server_ns - (sent_ns + received_ns) // 2
        return self.offset_ns

    def sync(self, server_time_ns: Callable[[], int]) -> int:
        """Measure the offset with one call of `server_time_ns` (`measure_offset`) and keep it."""
        self.offset_ns = measure_offset(server_time_ns)
        return self.offset_ns
