"""WebSocket routes. Each app adds its consumers' paths here."""

from django.urls import path

from marketdata.stream.consumer import StreamConsumer

websocket_urlpatterns: list = [path("ws/stream", StreamConsumer.as_asgi())]
