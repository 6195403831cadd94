"""Market data kept in the database: connector heartbeats, public trades, 1-minute candles and
periodic top-of-book snapshots. Live books stay in the connectors' memory."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from exchanges.choices import StreamKind, StreamState
from exchanges.fields import money_field
from exchanges.models import Exchange, ExchangeAccount, Instrument
from orders.choices import Side


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

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="trades")
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

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="candles")
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

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="top_of_book")
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
