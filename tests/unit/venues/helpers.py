"""Helpers every venue's unit tests share."""

import json

from exchanges.venues.clock import Clock
from exchanges.venues.ws import OfflineLink


def sent(link: OfflineLink) -> list:
    """What a session sent over `link`, decoded from JSON."""
    return [json.loads(message) for message in link.sent]


class StoppedClock(Clock):
    """A venue clock standing still at `at_ns` (plus its offset), for recorded signing vectors."""

    __slots__ = ("at_ns",)

    def __init__(self, at_ns: int, offset_ns: int = 0) -> None:
        super().__init__(offset_ns)
        self.at_ns = at_ns

    def now_ns(self) -> int:
        return self.at_ns + self.offset_ns
