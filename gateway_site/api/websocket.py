"""WebSocket logins with the API token: `ws://host/ws/...?token=<key>` (browsers cannot set an
Authorization header on a WebSocket). Without a valid token the session login still applies
(the `AuthMiddlewareStack` inside); consumers refuse anonymous users."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        keys = parse_qs(scope.get("query_string", b"").decode()).get("token")
        if keys:
            user = await user_for_token(keys[0])
            scope = {**scope, "user": user or AnonymousUser()}
        return await super().__call__(scope, receive, send)
