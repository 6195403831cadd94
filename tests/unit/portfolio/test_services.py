"""Fills, account executions and marks counted in positions (portfolio/services.py), on the
Deribit-like inverse perpetual of the db fixtures (amounts in USD, PnL in BTC)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from exchanges.venues.base import AccountExecution, ExecutionKind, PositionUpdate, Venue
from orders.ingest import UnknownInstrument
from portfolio import selectors, services
from portfolio.models import AppliedFill, LedgerEntry, Position
from tests.factories import T0, FillFactory, InstrumentFactory

D = Decimal
T0_NS = int(T0.timestamp()) * 1_000_000_000


def fill(order, **values):
    values.setdefault("fee", D(0))
    return FillFactory(order=order, **values)


def execution(kind, execution_id, amount, currency="BTC", **values):
    return AccountExecution(
        venue=Venue.DERIBIT,
        symbol="BTC/USD:BTC",
        kind=kind,
        execution_id=execution_id,
        amount=D(amount),
        currency=currency,
        exchange_ts=T0_NS + 60_000_000_000,
        receive_ts=T0_NS + 60_000_000_000,
        **values,
    )


def test_a_fill_counts_once_and_a_reduce_realizes_in_coin(order):
    bought = fill(order, side="buy", quantity=D(1000), price=D(50000), fee=D("0.0000125"))
    first = services.apply_fill(bought)
    again = services.apply_fill(bought)
    assert first.pk == again.pk
    assert AppliedFill.objects.filter(fill=bought).count() == 1
    position = Position.objects.get(pk=first.pk)
    assert (position.quantity, position.entry_price) == (D(1000), D(50000))
    assert (position.realized_pnl, position.fees) == (D("-0.0000125"), D("0.0000125"))
    sold = fill(order, side="sell", quantity=D(400), price=D(62500))
    position = services.apply_fill(sold)
    # 400 USD x (1/50000 - 1/62500) = 0.0016 BTC
    assert (position.quantity, position.entry_price) == (D(600), D(50000))
    assert position.realized_pnl == D("0.0015875")
    assert AppliedFill.objects.get(fill=sold).realized == D("0.0016")
    assert position.settle_currency == "BTC"


def test_a_fill_older_than_the_venue_push_adds_its_pnl_not_its_quantity(account, order):
    services.apply_position_update(
        account,
        PositionUpdate(
            venue=Venue.DERIBIT,
            symbol="BTC/USD:BTC",
            quantity=D(600),
            entry_price=D(50000),
            exchange_ts=T0_NS + 1_000_000_000,
            receive_ts=T0_NS + 1_000_000_000,
        ),
    )
    position = services.apply_fill(fill(order, side="sell", quantity=D(400), price=D(62500)))
    assert (position.quantity, position.entry_price) == (D(600), D(50000))
    assert position.realized_pnl == D("0.0016")


def test_a_fee_in_another_currency_is_kept_apart(order):
    position = services.apply_fill(
        fill(order, side="buy", quantity=D(10), price=D(50000), fee=D("0.5"), fee_currency="USDC")
    )
    assert (position.realized_pnl, position.fees) == (0, 0)
    assert Position.objects.get(pk=position.pk).other_fees == {"USDC": "0.5"}


def test_funding_is_cash_once_and_another_currency_is_not_counted(account, order):
    services.apply_fill(fill(order, side="buy", quantity=D(1000), price=D(50000)))
    entry, created = services.record_execution(
        account, execution(ExecutionKind.FUNDING, "f1", "-0.0001")
    )
    assert created
    again, created_again = services.record_execution(
        account, execution(ExecutionKind.FUNDING, "f1", "-0.0001")
    )
    assert (again.pk, created_again) == (entry.pk, False)
    other, _ = services.record_execution(
        account, execution(ExecutionKind.FUNDING, "f2", "3", currency="USDC")
    )
    position = Position.objects.get(account=account)
    assert (position.quantity, position.realized_pnl) == (D(1000), D("-0.0001"))
    assert (entry.realized, other.realized) == (D("-0.0001"), 0)
    assert LedgerEntry.objects.filter(account=account).count() == 2


def test_a_liquidation_closes_the_quantity_at_its_price(account, order):
    services.apply_fill(fill(order, side="buy", quantity=D(1000), price=D(50000)))
    entry, _ = services.record_execution(
        account,
        execution(ExecutionKind.LIQUIDATION, "liq1", "-0.005", quantity=D(-1000), price=D(40000)),
    )
    position = Position.objects.get(account=account)
    # 1000 x (1/50000 - 1/40000) = -0.005 BTC, counted once (the amount is the venue's figure)
    assert (position.quantity, position.entry_price, position.realized_pnl) == (
        0,
        None,
        D("-0.005"),
    )
    assert (entry.realized, entry.amount, entry.quantity) == (D("-0.005"), D("-0.005"), -1000)


def test_a_settlement_with_a_price_rebases_the_entry(account, order):
    services.apply_fill(fill(order, side="buy", quantity=D(1000), price=D(50000)))
    services.record_execution(
        account, execution(ExecutionKind.SETTLEMENT, "s1", "0.0001", price=D(52000))
    )
    position = Position.objects.get(account=account)
    assert (position.quantity, position.entry_price, position.realized_pnl) == (
        D(1000),
        D(52000),
        D("0.0001"),
    )


def test_marks_update_open_positions_in_one_pass(account, order, instrument):
    services.apply_fill(fill(order, side="buy", quantity=D(1000), price=D(50000)))
    flat = InstrumentFactory(exchange=account.exchange)
    Position.objects.create(account=account, instrument=flat, quantity=0)
    assert services.mark_to_market({instrument.pk: D(40000), flat.pk: D(1)}) == 1
    position = Position.objects.get(account=account, instrument=instrument)
    assert (position.mark_price, position.unrealized_pnl) == (D(40000), D("-0.005"))
    assert services.mark_to_market({instrument.pk: D(40000)}) == 0
    assert services.mark_to_market({instrument.pk: None}) == 0
    assert services.mark_to_market({instrument.pk: D(0)}) == 0
    assert services.mark_to_market({"BTC/USD:BTC": D(62500)}, exchange=account.exchange) == 1
    position.refresh_from_db()
    assert position.unrealized_pnl == D("0.004")
    later = services.apply_fill(
        fill(
            order,
            side="buy",
            quantity=D(1000),
            price=D(62500),
            executed_at=T0 + timedelta(seconds=5),
        )
    )
    # 2000 USD at 1/(1000/50000 + 1000/62500): 55555.55...; unrealized follows the mark
    assert later.entry_price == D("55555.555555555555555556")
    assert later.unrealized_pnl == D("0.004")


def test_a_delivery_without_price_moves_the_quantity_and_counts_the_cash(account, order):
    services.apply_fill(fill(order, side="buy", quantity=D(1000), price=D(50000)))
    entry, _ = services.record_execution(
        account, execution(ExecutionKind.DELIVERY, "d1", "0.0002", quantity=D(-1000))
    )
    position = Position.objects.get(account=account)
    assert (position.quantity, position.entry_price, position.realized_pnl) == (
        0,
        None,
        D("0.0002"),
    )
    assert entry.realized == D("0.0002")


def test_a_fill_the_venue_push_closed_already_counts_only_its_fee(account, order):
    services.apply_position_update(
        account,
        PositionUpdate(
            venue=Venue.DERIBIT,
            symbol="BTC/USD:BTC",
            quantity=D(0),
            entry_price=None,
            exchange_ts=T0_NS + 1_000_000_000,
            receive_ts=T0_NS + 1_000_000_000,
        ),
    )
    position = services.apply_fill(
        fill(order, side="sell", quantity=D(400), price=D(62500), fee=D("0.000002"))
    )
    assert (position.quantity, position.entry_price) == (0, None)
    assert (position.realized_pnl, position.fees) == (D("-0.000002"), D("0.000002"))


def test_an_execution_on_an_instrument_not_listed_is_refused(account):
    event = AccountExecution(
        venue=Venue.DERIBIT,
        symbol="SOL/USD:SOL",
        kind=ExecutionKind.FUNDING,
        execution_id="x1",
        amount=D(1),
        currency="SOL",
        exchange_ts=T0_NS,
        receive_ts=T0_NS,
    )
    with pytest.raises(UnknownInstrument, match="lists no SOL/USD:SOL"):
        services.record_execution(account, event)
    assert not LedgerEntry.objects.exists()


def test_realized_since_sums_fills_and_executions_from_a_moment(account, order, instrument):
    services.apply_fill(fill(order, side="buy", quantity=D(1000), price=D(50000)))
    services.apply_fill(
        fill(
            order, side="sell", quantity=D(400), price=D(62500), executed_at=T0 - timedelta(days=1)
        )
    )
    services.apply_fill(
        fill(order, side="sell", quantity=D(100), price=D(62500), fee=D("0.0000001"))
    )
    services.record_execution(account, execution(ExecutionKind.FUNDING, "f1", "-0.0001"))
    # today: 100 x (1/50000 - 1/62500) = 0.0004, less the fee, and the funding paid
    assert selectors.realized_since(account, T0) == {instrument.pk: D("0.0002999")}
    assert Position.objects.get(account=account).realized_pnl == D("0.0018999")
