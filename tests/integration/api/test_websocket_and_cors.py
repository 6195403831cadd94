"""The API token logs a WebSocket in (`?token=`), and CORS answers only the allowed origins."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from gateway_site.api.websocket import TokenAuthMiddleware


async def whoami(scope, receive, send):
    """A bare ASGI WebSocket app: accept, say who the scope's user is, close."""
    await receive()
    await send({"type": "websocket.accept"})
    user = scope.get("user")
    await send({"type": "websocket.send", "text": user.get_username() if user else "none"})
    await send({"type": "websocket.close"})


async def username_seen(query: str, *, scope_user=None) -> str:
    app = TokenAuthMiddleware(whoami)
    communicator = WebsocketCommunicator(app, f"/ws/test/?{query}")
    if scope_user is not None:
        communicator.scope["user"] = scope_user
    connected, _ = await communicator.connect()
    assert connected
    text = await communicator.receive_from()
    await communicator.disconnect()
    return text


@pytest.mark.django_db(transaction=True)
async def test_websocket_token_login():
    user = await database_sync_to_async(User.objects.create_user)("wsuser")
    token = await database_sync_to_async(Token.objects.create)(user=user)
    assert await username_seen(f"token={token.key}") == "wsuser"
    assert await username_seen("token=not-a-token") == ""  # AnonymousUser's name is ""
    inactive = await database_sync_to_async(User.objects.create_user)("gone", is_active=False)
    stale = await database_sync_to_async(Token.objects.create)(user=inactive)
    assert await username_seen(f"token={stale.key}") == ""


@pytest.mark.django_db
def test_cors_answers_only_allowed_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://desk.example"]
    allowed = client.options(
        "/api/v1/me/",
        HTTP_ORIGIN="https://desk.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert allowed["Access-Control-Allow-Origin"] == "https://desk.example"
    other = client.options(
        "/api/v1/me/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert "Access-Control-Allow-Origin" not in other
