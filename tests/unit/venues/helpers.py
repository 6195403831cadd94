"""Helpers every venue's unit tests share."""

import json

from exchanges.venues.ws import OfflineLink


def sent(link: OfflineLink) -> list:
    """What a session sent over `link`, decoded from JSON."""
    return [json.loads(message) for message in link.sent]
