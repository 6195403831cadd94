"""Market data kept in the database: connector heartbeats, public trades, 1-minute candles,
periodic top-of-book snapshots and cross-venue arbitrage opportunities. Live books stay in the
connectors' memory."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from exchanges.choices import StreamKind, StreamState
from exchanges.models import Exchange, ExchangeAccount, Instrument
from gateway_site.models_base import money_field
from marketdata.feed import BOOK_DEPTH
from orders.choices import Side

MAX_BOOK_DEPTH = 50  # levels a subscription may publish per side


class Subscription(models.Model):
    """What the connectors stream for one instrument: its book (the top `book_depth` levels
    published), its public trades, its ticker. Only enabled subscriptions of active instruments
    of enabled exchanges run; the connectors reload them every few seconds, so a change here
    takes effect without a restart."""

    instrument = models.OneToOneField(
        Instrument, on_delete=models.CASCADE, related_name="subscription"
    )
    enabled = models.BooleanField(default=True)
    books = models.BooleanField(default=True)
    book_depth = models.PositiveSmallIntegerField(
        default=BOOK_DEPTH,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BOOK_DEPTH)],
        help_text=f"Book levels published per side, 1 to {MAX_BOOK_DEPTH}.",
    )
    trades = models.BooleanField(default=True)
    tickers = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument__exchange", "instrument__symbol"]
        constraints = [
            models.CheckConstraint(
                condition=Q(book_depth__gte=1, book_depth__lte=MAX_BOOK_DEPTH),
                name="subscription_book_depth_range",
            ),
        ]

    def __str__(self) -> str:
        what = [name for name in ("books", "trades", "tickers") if getattr(self, name)]
        state = "" if self.enabled else " (disabled)"
        return f"{self.instrument}: {', '.join(what) or 'nothing'}{state}"


class ConnectorStatus(models.Model):
    """The heartbeat of one running stream: the public stream of an exchange, or the private
    stream of an account. Updated by the connector process; read by operators and health checks."""

    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="connectors")
    account = models.ForeignKey(
        ExchangeAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="connectors"
    )
    stream = models.CharField(max_length=8, choices=StreamKind.choices)
    state = models.CharField(
        max_length=16, choices=StreamState.choices, default=StreamState.DISCONNECTED
    )
    detail = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    messages = models.PositiveBigIntegerField(default=0)
    reconnects = models.PositiveIntegerField(default=0)
    messages_per_second = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    book_rebuilds = models.PositiveIntegerField(default=0)
    books_invalid = models.PositiveIntegerField(default=0)
    lag_p50_ms = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    lag_p99_ms = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exchange", "stream", "account"]
        verbose_name_plural = "connector statuses"
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "stream"],
                condition=Q(account__isnull=True),
                name="connectorstatus_unique_exchange_stream",
            ),
            models.UniqueConstraint(
                fields=["exchange", "account", "stream"],
                condition=Q(account__isnull=False),
                name="connectorstatus_unique_exchange_account_stream",
            ),
        ]

    def __str__(self) -> str:
        who = f"/{self.account.label}" if self.account_id else ""
        return f"{self.exchange}{who} {self.stream}: {self.state}"


class TradeTick(models.Model):
    """One public trade. `side` is the taker's side."""

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="trades", db_index=False
    )
    trade_id = models.CharField(max_length=64)
    price = money_field()
    quantity = money_field()
    side = models.CharField(max_length=4, choices=Side.choices)
    traded_at = models.DateTimeField()

    class Meta:
        ordering = ["-traded_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "trade_id"], name="tradetick_unique_instrument_trade"
            ),
        ]
        indexes = [models.Index(fields=["instrument", "traded_at"], name="tradetick_instr_time")]

    def __str__(self) -> str:
        return f"{self.trade_id} {self.side} {self.quantity}@{self.price}"


class Candle(models.Model):
    """OHLCV bar of one instrument over `interval` starting at `open_time` (UTC, inclusive)."""

    class Interval(models.TextChoices):
        ONE_MINUTE = "1m", "1 minute"

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="candles", db_index=False
    )
    interval = models.CharField(max_length=4, choices=Interval.choices, default=Interval.ONE_MINUTE)
    open_time = models.DateTimeField()
    open = money_field()
    high = money_field()
    low = money_field()
    close = money_field()
    volume = money_field()
    trades = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["instrument", "interval", "-open_time"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "interval", "open_time"],
                name="candle_unique_instrument_interval_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.interval} {self.open_time:%Y-%m-%d %H:%M}"


class TopOfBookSnapshot(models.Model):
    """Best bid and ask of one instrument at one moment, sampled periodically."""

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="top_of_book", db_index=False
    )
    best_bid = money_field(null=True, blank=True)
    best_bid_size = money_field(null=True, blank=True)
    best_ask = money_field(null=True, blank=True)
    best_ask_size = money_field(null=True, blank=True)
    taken_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["instrument", "taken_at"], name="topofbook_instr_time")]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.best_bid}/{self.best_ask} @ {self.taken_at}"


class ArbitrageOpportunity(models.Model):
    """A pair quoted on two exchanges so that buying on one and selling on the other pays both
    taker fees, as `marketdata.aggregation.find_opportunities` found it and
    `services.arbitrage_record` keeps it: opened when first seen, its figures updated while it
    lasts, closed (`closed_at`) when it is no longer found.

    `symbol` is the unified pair; sizes are in its base currency, prices and `net_edge_quote`
    in its quote currency, `net_edge_bps` the edge over the bought notional. The figures are
    the latest seen; `best_*` the largest edge seen while open."""

    symbol = models.CharField(max_length=64)
    buy_exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="+")
    sell_exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="+")
    buy_price = money_field()
    sell_price = money_field()
    size = money_field()
    net_edge_bps = money_field()
    net_edge_quote = money_field()
    best_net_edge_bps = money_field()
    best_net_edge_quote = money_field()
    opened_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name_plural = "arbitrage opportunities"
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "buy_exchange", "sell_exchange"],
                condition=Q(closed_at__isnull=True),
                name="arbitrage_one_open_per_symbol_direction",
            ),
            models.CheckConstraint(
                condition=~Q(buy_exchange=models.F("sell_exchange")),
                name="arbitrage_two_exchanges",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="arbitrage_size_positive"),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("opened_at")),
                name="arbitrage_closed_after_opened",
            ),
        ]
        indexes = [models.Index(fields=["symbol", "opened_at"], name="arbitrage_symbol_opened")]

    def __str__(self) -> str:
        return (
            f"{self.symbol} buy {self.buy_exchange_id} @ {self.buy_price}, "
            f"sell {self.sell_exchange_id} @ {self.sell_price}: {self.net_edge_bps} bps"
        )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
