"""Exchanges, accounts and instruments: the live/testnet rows, endpoints, instrument sync and
the selectors."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from exchanges.models import Exchange, ExchangeAccount, Instrument
from exchanges.selectors import accounts_enabled, instrument_get
from exchanges.services import (
    exchange_account_create,
    exchange_account_credentials_set,
    instruments_upsert,
)
from exchanges.venues.base import (
    Endpoints,
    InstrumentInfo,
    InstrumentKind,
    OptionType,
    Venue,
)
from tests.factories import ExchangeAccountFactory, ExchangeFactory, InstrumentFactory

D = Decimal

LIVE_AND_TESTNET = {
    "deribit-live": (
        "https://www.deribit.com",
        "wss://www.deribit.com/ws/api/v2",
        "wss://www.deribit.com/ws/api/v2",
    ),
    "deribit-testnet": (
        "https://test.deribit.com",
        "wss://test.deribit.com/ws/api/v2",
        "wss://test.deribit.com/ws/api/v2",
    ),
    "okx-live": (
        "https://www.okx.com",
        "wss://ws.okx.com:8443/ws/v5/public",
        "wss://ws.okx.com:8443/ws/v5/private",
    ),
    "okx-testnet": (
        "https://www.okx.com",
        "wss://wspap.okx.com:8443/ws/v5/public",
        "wss://wspap.okx.com:8443/ws/v5/private",
    ),
    "bybit-live": (
        "https://api.bybit.com",
        "wss://stream.bybit.com/v5/public",
        "wss://stream.bybit.com/v5/private",
    ),
    "bybit-testnet": (
        "https://api-testnet.bybit.com",
        "wss://stream-testnet.bybit.com/v5/public",
        "wss://stream-testnet.bybit.com/v5/private",
    ),
}


@pytest.mark.django_db
def test_data_migration_rows():
    rows = {e.slug: e for e in Exchange.objects.filter(environment__in=["live", "testnet"])}
    assert set(rows) == set(LIVE_AND_TESTNET)
    for slug, urls in LIVE_AND_TESTNET.items():
        exchange = rows[slug]
        assert exchange.endpoints() == Endpoints(*urls)
        assert exchange.enabled is False
        assert exchange.venue == slug.split("-")[0]
        assert exchange.environment == slug.split("-")[1]
        assert exchange.rate_limit_percent == 100  # the venue's published limits, unlowered


@pytest.mark.django_db
def test_exchange_unique_per_venue_environment_name():
    ExchangeFactory(venue="okx", environment="simulator", name="OKX sim")
    with pytest.raises(IntegrityError):
        ExchangeFactory(venue="okx", environment="simulator", name="OKX sim")


@pytest.mark.django_db
@pytest.mark.parametrize("percent", [0, 101])
def test_exchange_rate_limit_ceiling_is_1_to_100_percent(percent):
    with pytest.raises(IntegrityError):
        ExchangeFactory(rate_limit_percent=percent)


@pytest.mark.django_db
def test_exchange_rate_limit_ceiling_validates_in_forms():
    exchange = ExchangeFactory.build(rate_limit_percent=150)
    with pytest.raises(ValidationError) as raised:
        exchange.full_clean()
    assert raised.value.message_dict["rate_limit_percent"] == [
        "Ensure this value is less than or equal to 100."
    ]


def test_account_credentials_and_permission(account):
    assert account.credentials().secret == "TopSecretValue-0123456789"
    assert account.can_trade is True
    assert str(account) == "deribit-test/main"


def test_account_label_unique_per_exchange(account):
    with pytest.raises(IntegrityError):
        ExchangeAccountFactory(exchange=account.exchange, label="main")


@pytest.mark.django_db
def test_account_create_service(secrets_key):
    okx = ExchangeFactory(venue="okx")
    with pytest.raises(ValidationError) as info:
        exchange_account_create(exchange=okx, label="x", api_key="k", secret="s")
    assert info.value.message_dict == {
        "passphrase": ["OKX API keys have a passphrase; it is required."]
    }
    account = exchange_account_create(
        exchange=okx, label="x", api_key="k", secret="s", passphrase="p", permission="trade"
    )
    stored = ExchangeAccount.objects.get(pk=account.pk)
    assert (stored.api_key, stored.secret, stored.passphrase, stored.permission) == (
        "k",
        "s",
        "p",
        "trade",
    )

    exchange_account_credentials_set(account=stored, secret="s2")
    stored = ExchangeAccount.objects.get(pk=account.pk)
    assert (stored.api_key, stored.secret, stored.passphrase) == ("k", "s2", "p")
    with pytest.raises(ValidationError):
        exchange_account_credentials_set(account=stored, secret="")


def _info(venue_symbol: str, **changes) -> InstrumentInfo:
    info = InstrumentInfo(
        venue=Venue.DERIBIT,
        venue_symbol=venue_symbol,
        symbol=f"{venue_symbol}/USD:BTC",
        kind=InstrumentKind.PERPETUAL,
        base="BTC",
        quote="USD",
        settle="BTC",
        linear=False,
        contract_size=D(10),
        tick_size=D("0.5"),
        lot_size=D(10),
        min_size=D(10),
    )
    return replace(info, **changes)


OPTION = _info(
    "BTC-25DEC26-100000-C",
    symbol="BTC/USD:BTC-261225-100000-C",
    kind=InstrumentKind.OPTION,
    contract_size=D(1),
    tick_size=D("0.0005"),
    lot_size=D("0.1"),
    min_size=D("0.1"),
    expiry_ts=1_798_185_600_000_000_000,
    strike=D(100000),
    option_type=OptionType.CALL,
)


def test_instruments_upsert(exchange):
    assert instruments_upsert(exchange=exchange, infos=[_info("A"), _info("B"), OPTION]) == (
        3,
        0,
        0,
    )
    option = Instrument.objects.get(exchange=exchange, venue_symbol="BTC-25DEC26-100000-C")
    assert option.expiry == datetime(2026, 12, 25, 8, 0, tzinfo=UTC)
    assert (option.strike, option.option_type, option.kind) == (D(100000), "call", "option")
    assert option.tick_size == D("0.0005")
    assert option.inverse is True

    # Same list again: nothing to do.
    assert instruments_upsert(exchange=exchange, infos=[_info("A"), _info("B"), OPTION]) == (
        0,
        0,
        0,
    )
    # B's tick changes, the option is delisted, C is new.
    assert instruments_upsert(
        exchange=exchange, infos=[_info("A"), _info("B", tick_size=D("0.1")), _info("C")]
    ) == (1, 1, 1)
    states = dict(
        Instrument.objects.filter(exchange=exchange).values_list("venue_symbol", "active")
    )
    assert states == {"A": True, "B": True, "C": True, "BTC-25DEC26-100000-C": False}
    assert Instrument.objects.get(exchange=exchange, venue_symbol="B").tick_size == D("0.1")

    # Listed again: reactivated, counted as updated; nothing else changes.
    assert instruments_upsert(
        exchange=exchange, infos=[_info("A"), _info("B", tick_size=D("0.1")), _info("C"), OPTION]
    ) == (0, 1, 0)

    # A minimum order value appears: stored, counted as an update; absent is NULL.
    assert instruments_upsert(
        exchange=exchange,
        infos=[_info("A", min_notional=D("5")), _info("B", tick_size=D("0.1")), _info("C"), OPTION],
    ) == (0, 1, 0)
    stored = dict(
        Instrument.objects.filter(exchange=exchange).values_list("venue_symbol", "min_notional")
    )
    assert (stored["A"], stored["B"]) == (D("5"), None)


def test_instruments_upsert_only_touches_its_exchange(exchange):
    other = ExchangeFactory(venue="deribit")
    instruments_upsert(exchange=other, infos=[_info("A")])
    assert instruments_upsert(exchange=exchange, infos=[_info("B")]) == (1, 0, 0)
    assert Instrument.objects.get(exchange=other, venue_symbol="A").active is True


def test_instruments_upsert_refuses_another_venue(exchange):
    with pytest.raises(ValueError, match="is from okx"):
        instruments_upsert(exchange=exchange, infos=[_info("X", venue=Venue.OKX)])
    assert not Instrument.objects.filter(exchange=exchange).exists()


def test_instrument_unique_by_unified_symbol(exchange):
    InstrumentFactory(exchange=exchange, venue_symbol="BTCUSDT", symbol="BTC/USDT", kind="spot")
    # Bybit lists the spot pair and the linear perpetual under the same venue symbol.
    InstrumentFactory(exchange=exchange, venue_symbol="BTCUSDT", symbol="BTC/USDT:USDT")
    with pytest.raises(IntegrityError):
        InstrumentFactory(exchange=exchange, venue_symbol="OTHER", symbol="BTC/USDT")


@pytest.mark.django_db
def test_instruments_upsert_keeps_bybit_homonyms_apart():
    exchange = ExchangeFactory(venue="bybit")
    spot = _info(
        "BTCUSDT", venue=Venue.BYBIT, symbol="BTC/USDT", kind=InstrumentKind.SPOT, linear=True
    )
    perp = _info("BTCUSDT", venue=Venue.BYBIT, symbol="BTC/USDT:USDT", linear=True)
    assert instruments_upsert(exchange=exchange, infos=[spot, perp]) == (2, 0, 0)
    assert instruments_upsert(exchange=exchange, infos=[perp]) == (0, 0, 1)
    assert dict(Instrument.objects.values_list("symbol", "active")) == {
        "BTC/USDT": False,
        "BTC/USDT:USDT": True,
    }
    assert instrument_get(exchange=exchange, symbol="BTCUSDT").symbol == "BTC/USDT:USDT"
    instruments_upsert(exchange=exchange, infos=[spot, perp])
    with pytest.raises(Instrument.MultipleObjectsReturned, match="use the unified symbol"):
        instrument_get(exchange=exchange, symbol="BTCUSDT")
    assert instrument_get(exchange=exchange, symbol="BTC/USDT").kind == "spot"


def test_option_needs_strike_expiry_and_type(exchange):
    with pytest.raises(IntegrityError):
        InstrumentFactory(exchange=exchange, kind="option", strike=D(1000))


def test_instrument_get(exchange, instrument):
    assert instrument_get(exchange=exchange, symbol="BTC-PERPETUAL") == instrument
    assert instrument_get(exchange=exchange, symbol="BTC/USD:BTC") == instrument
    with pytest.raises(Instrument.DoesNotExist, match="no instrument 'ETH-PERPETUAL'"):
        instrument_get(exchange=exchange, symbol="ETH-PERPETUAL")
    with pytest.raises(Instrument.DoesNotExist):
        instrument_get(exchange=ExchangeFactory(), symbol="BTC-PERPETUAL")


def test_instrument_get_prefers_unified_symbol_then_listed(exchange):
    by_venue = InstrumentFactory(exchange=exchange, venue_symbol="AMBIG", symbol="Z/Z")
    by_symbol = InstrumentFactory(exchange=exchange, venue_symbol="X1", symbol="AMBIG")
    assert instrument_get(exchange=exchange, symbol="AMBIG") == by_symbol
    assert instrument_get(exchange=exchange, symbol="Z/Z") == by_venue
    InstrumentFactory(exchange=exchange, venue_symbol="V", symbol="OLD/X", active=False)
    new = InstrumentFactory(exchange=exchange, venue_symbol="V", symbol="NEW/X")
    assert instrument_get(exchange=exchange, symbol="V") == new


@pytest.mark.django_db
def test_accounts_enabled(secrets_key):
    on = ExchangeAccountFactory(exchange=ExchangeFactory(venue="okx", enabled=True))
    ExchangeAccountFactory(exchange=on.exchange, enabled=False)
    ExchangeAccountFactory(exchange=ExchangeFactory(venue="bybit", enabled=False))
    bybit = ExchangeAccountFactory(exchange=ExchangeFactory(venue="bybit", enabled=True))
    assert set(accounts_enabled()) == {on, bybit}
    assert list(accounts_enabled(venue="bybit")) == [bybit]
    assert list(accounts_enabled(exchange=on.exchange)) == [on]
