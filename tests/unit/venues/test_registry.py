"""Every venue's adapter builds clients that follow the shared protocols of base.py."""

import pytest
import requests

from exchanges.venues.base import Endpoints, Venue
from exchanges.venues.protocols import PublicStream, RestClient
from exchanges.venues.registry import available_venues, get_adapter, rest_client

ENDPOINTS = Endpoints("http://127.0.0.1:9", "ws://127.0.0.1:9/ws", "ws://127.0.0.1:9/ws")


@pytest.mark.parametrize("venue", available_venues())
def test_rest_client_follows_the_protocol_and_closes_its_session(venue, monkeypatch):
    closed: list[requests.Session] = []
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append(self))
    client = rest_client(venue, ENDPOINTS)
    assert isinstance(client, RestClient)
    assert client.venue is Venue(venue)
    client.close()
    assert len(closed) == 1


@pytest.mark.parametrize("venue", available_venues())
async def test_public_stream_follows_the_protocol(venue):
    stream = get_adapter(venue).public_stream(ENDPOINTS)
    assert isinstance(stream, PublicStream)
    await stream.close()
