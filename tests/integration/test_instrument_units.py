"""Instruments store what their quantity counts, set on every sync, and give back their
`InstrumentInfo` exactly; the migration's copy of the rule agrees with the function."""

import importlib

import pytest

from exchanges.models import Instrument
from exchanges.services import instruments_upsert
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.venues.base import Venue
from exchanges.venues.quantities import quantity_unit
from tests.factories import ExchangeFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("exchanges.migrations.0008_instrument_quantity_unit")


@pytest.mark.parametrize("venue", list(Venue))
def test_sync_stores_the_unit_and_info_round_trips(venue):
    exchange = ExchangeFactory(venue=venue)
    listed = [i for i in DEFAULT_INSTRUMENTS if i.venue is venue]
    instruments_upsert(exchange=exchange, infos=listed)

    for info in listed:
        row = Instrument.objects.get(exchange=exchange, symbol=info.symbol)
        assert row.quantity_unit == quantity_unit(info)
        assert row.info() == info


def test_the_migration_rule_is_the_function():
    for info in DEFAULT_INSTRUMENTS:
        assert migration.unit_of(info.venue, info.kind, info.linear) == quantity_unit(info)
