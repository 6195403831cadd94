"""Fixtures every venue's unit tests share."""

import pytest

from exchanges.venues.ws import OfflineLink


@pytest.fixture
def link() -> OfflineLink:
    """A socketless link to drive a sans-IO session over recorded messages."""
    return OfflineLink()
