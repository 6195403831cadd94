from django.urls import path
from rest_framework.routers import SimpleRouter

from marketdata.api import history, live, views

router = SimpleRouter()
router.register("connectors", views.ConnectorViewSet, basename="connector")
router.register("marketdata/trades", history.TradeViewSet, basename="marketdata-trade")
router.register("marketdata/candles", history.CandleViewSet, basename="marketdata-candle")
router.register(
    "marketdata/opportunities", history.OpportunityViewSet, basename="marketdata-opportunity"
)

urlpatterns = [
    path("marketdata/book/", live.book, name="marketdata-book"),
    path("marketdata/ticker/", live.ticker, name="marketdata-ticker"),
    path("marketdata/tickers/", live.tickers, name="marketdata-tickers"),
    path("marketdata/consolidated/", live.consolidated, name="marketdata-consolidated"),
    *router.urls,
]
