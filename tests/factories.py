"""factory_boy factories for every model, with realistic defaults (a Deribit-like inverse
perpetual, a limit buy). Tests override what they assert on."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from exchanges.models import Exchange, ExchangeAccount, Instrument
from exchanges.venues.quantities import unit_for
from marketdata.models import (
    ArbitrageOpportunity,
    Candle,
    ConnectorStatus,
    Subscription,
    TopOfBookSnapshot,
    TradeTick,
)
from orders.models import Fill, Order, OrderEvent
from portfolio.models import (
    AppliedFill,
    Balance,
    LedgerEntry,
    Position,
    ReconciliationCursor,
    ReconciliationReport,
)
from risk.models import BreakerTrip, CircuitBreaker, KillSwitch, RiskEvent, RiskLimit

D = Decimal
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class ExchangeFactory(DjangoModelFactory):
    class Meta:
        model = Exchange

    venue = "deribit"
    environment = "simulator"
    name = factory.Sequence(lambda n: f"Test exchange {n}")
    slug = factory.Sequence(lambda n: f"test-exchange-{n}")
    rest_url = "http://127.0.0.1:8801"
    public_ws_url = "ws://127.0.0.1:8801/ws/api/v2"
    private_ws_url = "ws://127.0.0.1:8801/ws/api/v2"
    enabled = True


class ExchangeAccountFactory(DjangoModelFactory):
    class Meta:
        model = ExchangeAccount

    exchange = factory.SubFactory(ExchangeFactory)
    label = factory.Sequence(lambda n: f"account-{n}")
    api_key = factory.Sequence(lambda n: f"TestApiKey{n:08d}")
    secret = factory.Sequence(lambda n: f"TestSecretValue{n:08d}")
    passphrase = ""
    permission = "trade"
    enabled = True


class InstrumentFactory(DjangoModelFactory):
    class Meta:
        model = Instrument

    exchange = factory.SubFactory(ExchangeFactory)
    venue_symbol = factory.Sequence(lambda n: f"BTC-PERPETUAL-{n}")
    symbol = factory.Sequence(lambda n: f"BTC{n}/USD:BTC")
    kind = "perpetual"
    base = "BTC"
    quote = "USD"
    settle = "BTC"
    linear = False
    contract_size = D(10)
    tick_size = D("0.5")
    lot_size = D(10)
    min_size = D(10)
    quantity_unit = factory.LazyAttribute(
        lambda o: str(unit_for(o.exchange.venue, o.kind, linear=o.linear))
    )


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    account = factory.SubFactory(ExchangeAccountFactory)
    instrument = factory.SubFactory(
        InstrumentFactory, exchange=factory.SelfAttribute("..account.exchange")
    )
    side = "buy"
    order_type = "limit"
    time_in_force = "gtc"
    price = D("65000.5")
    quantity = D(100)


class OrderEventFactory(DjangoModelFactory):
    """Appends through `OrderEvent.objects.append`, so sequences follow on."""

    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    kind = "status_change"
    from_status = "pending_new"
    to_status = "new"
    payload = factory.LazyFunction(lambda: {"order_state": "open"})

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.append(*args, **kwargs)


class FillFactory(DjangoModelFactory):
    class Meta:
        model = Fill

    order = factory.SubFactory(OrderFactory)
    account = factory.SelfAttribute("order.account")
    instrument = factory.SelfAttribute("order.instrument")
    trade_id = factory.Sequence(lambda n: f"BTC-{1000 + n}")
    side = "buy"
    price = D("65000.5")
    quantity = D(10)
    fee = D("0.0000005")
    fee_currency = "BTC"
    liquidity = "maker"
    executed_at = T0


class PositionFactory(DjangoModelFactory):
    class Meta:
        model = Position

    account = factory.SubFactory(ExchangeAccountFactory)
    instrument = factory.SubFactory(
        InstrumentFactory, exchange=factory.SelfAttribute("..account.exchange")
    )
    quantity = D(-250)
    entry_price = D("64990.25")
    mark_price = D("65010")


class BalanceFactory(DjangoModelFactory):
    class Meta:
        model = Balance

    account = factory.SubFactory(ExchangeAccountFactory)
    currency = "BTC"
    total = D("10.5")
    available = D("10.25")
    locked = D("0.25")


class ReconciliationReportFactory(DjangoModelFactory):
    class Meta:
        model = ReconciliationReport

    account = factory.SubFactory(ExchangeAccountFactory)
    kind = "orders"
    status = "mismatch"
    started_at = T0
    finished_at = T0
    checked = 12
    mismatches = 1
    details = factory.LazyFunction(lambda: {"missing_at_venue": ["gw0001"]})


class RiskLimitFactory(DjangoModelFactory):
    class Meta:
        model = RiskLimit

    name = factory.Sequence(lambda n: f"limit {n}")
    max_order_notional = D(1_000_000)
    max_open_orders = 50
    price_band_pct = D(5)


class KillSwitchFactory(DjangoModelFactory):
    class Meta:
        model = KillSwitch

    account = None
    engaged = True
    reason = "test"
    engaged_by = "tester"


class RiskEventFactory(DjangoModelFactory):
    class Meta:
        model = RiskEvent

    kind = "order_rejected"
    severity = "warning"
    account = factory.SubFactory(ExchangeAccountFactory)
    message = "order notional 2000000 above the limit 1000000"
    details = factory.LazyFunction(lambda: {"limit": "1000000"})


class ConnectorStatusFactory(DjangoModelFactory):
    class Meta:
        model = ConnectorStatus

    exchange = factory.SubFactory(ExchangeFactory)
    account = None
    stream = "public"
    state = "subscribed"
    last_heartbeat_at = T0
    last_message_at = T0
    messages = 1234
    reconnects = 1


class TradeTickFactory(DjangoModelFactory):
    class Meta:
        model = TradeTick

    instrument = factory.SubFactory(InstrumentFactory)
    trade_id = factory.Sequence(lambda n: f"T{n}")
    price = D("65000.5")
    quantity = D(20)
    side = "sell"
    traded_at = T0


class CandleFactory(DjangoModelFactory):
    class Meta:
        model = Candle

    instrument = factory.SubFactory(InstrumentFactory)
    open_time = T0
    open = D(65000)
    high = D("65100.5")
    low = D("64950")
    close = D("65050")
    volume = D(12340)
    trades = 57


class TopOfBookSnapshotFactory(DjangoModelFactory):
    class Meta:
        model = TopOfBookSnapshot

    instrument = factory.SubFactory(InstrumentFactory)
    best_bid = D("65000")
    best_bid_size = D(1000)
    best_ask = D("65000.5")
    best_ask_size = D(2500)
    taken_at = T0


class ArbitrageOpportunityFactory(DjangoModelFactory):
    """An open opportunity: buy BTC/USDT:USDT on an OKX exchange, sell it on a Bybit one."""

    class Meta:
        model = ArbitrageOpportunity

    symbol = "BTC/USDT:USDT"
    buy_exchange = factory.SubFactory(ExchangeFactory, venue="okx")
    sell_exchange = factory.SubFactory(ExchangeFactory, venue="bybit")
    buy_price = D(65005)
    sell_price = D("65183.33333333")
    size = D("0.6")
    net_edge_bps = D("16.9187")
    net_edge_quote = D("65.988")
    best_net_edge_bps = D("16.9187")
    best_net_edge_quote = D("65.988")
    opened_at = T0
    last_seen_at = T0
    closed_at = None


class SubscriptionFactory(DjangoModelFactory):
    """Books (20 levels), trades and tickers of an instrument, enabled."""

    class Meta:
        model = Subscription

    instrument = factory.SubFactory(InstrumentFactory)
    enabled = True
    books = True
    book_depth = 20
    trades = True
    tickers = True


class LedgerEntryFactory(DjangoModelFactory):
    class Meta:
        model = LedgerEntry

    account = factory.SubFactory(ExchangeAccountFactory)
    instrument = factory.SubFactory(
        InstrumentFactory, exchange=factory.SelfAttribute("..account.exchange")
    )
    kind = "funding"
    execution_id = factory.Sequence(lambda n: f"funding-{n}")
    amount = D("-0.00012")
    currency = "BTC"
    realized = D("-0.00012")
    executed_at = T0


class AppliedFillFactory(DjangoModelFactory):
    class Meta:
        model = AppliedFill

    fill = factory.SubFactory(FillFactory)
    position = factory.SubFactory(
        PositionFactory,
        account=factory.SelfAttribute("..fill.account"),
        instrument=factory.SelfAttribute("..fill.instrument"),
    )
    realized = D("-0.0000005")


class ReconciliationCursorFactory(DjangoModelFactory):
    class Meta:
        model = ReconciliationCursor

    account = factory.SubFactory(ExchangeAccountFactory)
    kind = "fills"
    value = "1700000000000:BTC-1001"


class CircuitBreakerFactory(DjangoModelFactory):
    class Meta:
        model = CircuitBreaker

    instrument = None
    move_pct = D(5)
    window_seconds = 60
    cooldown_seconds = 300


class BreakerTripFactory(DjangoModelFactory):
    class Meta:
        model = BreakerTrip

    breaker = factory.SubFactory(CircuitBreakerFactory)
    instrument = factory.SubFactory(InstrumentFactory)
    tripped_at = T0
    reference_price = D("65000")
    reference_at = T0
    mark_price = D("61100")
    move_pct = D("-6")
    cooldown_until = None
