"""Admin of market data: what the connectors stream (subscriptions, edited by operators), and
what they report and write (connector heartbeats, trades, candles, top-of-book snapshots,
arbitrage opportunities; read-only)."""

from __future__ import annotations

from django.contrib import admin

from gateway_site.admin_base import ReadOnlyAdmin
from marketdata.models import (
    ArbitrageOpportunity,
    Candle,
    ConnectorStatus,
    Subscription,
    TopOfBookSnapshot,
    TradeTick,
)


@admin.register(ConnectorStatus)
class ConnectorStatusAdmin(ReadOnlyAdmin):
    list_display = [
        "exchange",
        "account",
        "stream",
        "state",
        "last_heartbeat_at",
        "last_message_at",
        "messages",
        "messages_per_second",
        "reconnects",
        "book_rebuilds",
        "books_invalid",
        "lag_p50_ms",
        "lag_p99_ms",
        "detail",
    ]
    list_filter = ["state", "stream", "exchange"]
    search_fields = ["exchange__name", "account__label", "detail"]
    list_select_related = ["exchange", "account"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "instrument",
        "exchange",
        "enabled",
        "books",
        "book_depth",
        "trades",
        "tickers",
        "updated_at",
    ]
    list_editable = ["enabled"]
    list_filter = [
        "enabled",
        "books",
        "trades",
        "tickers",
        "instrument__exchange",
        "instrument__kind",
    ]
    search_fields = ["instrument__symbol", "instrument__venue_symbol"]
    list_select_related = ["instrument__exchange"]
    autocomplete_fields = ["instrument"]

    @admin.display(ordering="instrument__exchange")
    def exchange(self, subscription: Subscription):
        return subscription.instrument.exchange


@admin.register(TradeTick)
class TradeTickAdmin(ReadOnlyAdmin):
    list_display = ["traded_at", "instrument", "trade_id", "side", "price", "quantity"]
    list_filter = ["side", "instrument__exchange"]
    search_fields = ["trade_id", "instrument__symbol", "instrument__venue_symbol"]
    list_select_related = ["instrument__exchange"]
    date_hierarchy = "traded_at"


@admin.register(Candle)
class CandleAdmin(ReadOnlyAdmin):
    list_display = [
        "open_time",
        "instrument",
        "interval",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "trades",
    ]
    list_filter = ["interval", "instrument__exchange"]
    search_fields = ["instrument__symbol", "instrument__venue_symbol"]
    list_select_related = ["instrument__exchange"]
    date_hierarchy = "open_time"


@admin.register(TopOfBookSnapshot)
class TopOfBookSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "taken_at",
        "instrument",
        "best_bid",
        "best_bid_size",
        "best_ask",
        "best_ask_size",
    ]
    list_filter = ["instrument__exchange"]
    search_fields = ["instrument__symbol", "instrument__venue_symbol"]
    list_select_related = ["instrument__exchange"]
    date_hierarchy = "taken_at"


@admin.register(ArbitrageOpportunity)
class ArbitrageOpportunityAdmin(ReadOnlyAdmin):
    list_display = [
        "opened_at",
        "closed_at",
        "symbol",
        "buy_exchange",
        "sell_exchange",
        "buy_price",
        "sell_price",
        "size",
        "net_edge_bps",
        "net_edge_quote",
        "best_net_edge_bps",
    ]
    list_filter = ["symbol", "buy_exchange", "sell_exchange"]
    search_fields = ["symbol"]
    list_select_related = ["buy_exchange", "sell_exchange"]
    date_hierarchy = "opened_at"
