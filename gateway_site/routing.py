"""WebSocket routes. Each app adds its consumers' paths here."""

websocket_urlpatterns: list = []
