"""`manage.py sync_instruments` against the simulator: each adapter reads the venue's real
instrument listing over HTTP and the rows match what the simulator lists, field for field."""

import io

import pytest
from django.core.management import CommandError, call_command

from exchanges.models import Instrument
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import Venue
from tests.factories import ExchangeFactory

pytestmark = pytest.mark.django_db


def simulator_exchange(sim, venue: Venue, **fields):
    urls = sim.urls[venue]
    values = {
        "venue": venue.value,
        "slug": f"{venue}-sim",
        "rest_url": urls["rest"],
        "public_ws_url": urls["ws_public"],
        "private_ws_url": urls["ws_private"],
    }
    return ExchangeFactory(**{**values, **fields})


@pytest.mark.parametrize("venue", list(Venue))
def test_sync_stores_every_listed_instrument_exactly(sim_module, venue):
    exchange = simulator_exchange(sim_module, venue)
    out = io.StringIO()
    call_command("sync_instruments", venue=venue.value, stdout=out)

    expected = {info.symbol: info for info in DEFAULT_INSTRUMENTS if info.venue is venue}
    assert f"{len(expected)} created, 0 updated, 0 deactivated" in out.getvalue()
    rows = {row.symbol: row for row in Instrument.objects.filter(exchange=exchange)}
    assert set(rows) == set(expected)
    for symbol, info in expected.items():
        row = rows[symbol]
        assert (row.venue_symbol, row.kind, row.base, row.quote, row.settle, row.linear) == (
            info.venue_symbol,
            info.kind.value,
            info.base,
            info.quote,
            info.settle,
            info.linear,
        ), symbol
        assert (row.tick_size, row.lot_size, row.min_size, row.contract_size) == (
            info.tick_size,
            info.lot_size,
            info.min_size,
            info.contract_size,
        ), symbol
        assert row.min_notional == info.min_notional, symbol
        assert row.strike == info.strike and (row.option_type or None) == info.option_type

    again = io.StringIO()
    call_command("sync_instruments", venue=venue.value, stdout=again)
    assert "0 created, 0 updated, 0 deactivated" in again.getvalue()


def test_unreachable_venue_is_reported_and_fails_the_command(sim_module):
    exchange = simulator_exchange(sim_module, Venue.OKX, rest_url="http://127.0.0.1:9")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 exchanges could not be synced"):
        call_command("sync_instruments", venue="okx", stderr=err)
    assert str(exchange) in err.getvalue()
    assert not Instrument.objects.filter(exchange=exchange).exists()


def test_no_enabled_exchange_is_an_error():
    with pytest.raises(CommandError, match="no enabled exchange for bybit"):
        call_command("sync_instruments", venue="bybit")
