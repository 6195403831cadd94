"""API test fixtures: a user per role (the groups of the roles migration), token clients, and
`fresh_throttles` to start a test with no
throttle counts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ROLES = ("viewer", "trader", "risk_officer", "admin")


def assert_error(response, status: int, code: str, fields: dict | None = None) -> dict:
    """`response` is the one error format with this status, code and fields; returns the error."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["fields"] == (fields or {})
    return body["error"]


@pytest.fixture
def fresh_throttles():
    """Throttle counts live in the cache (Redis on CI): start and end each test without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def make_user(db, settings) -> Callable[..., User]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast in tests

    def make(username: str, *roles: str) -> User:
        user = User.objects.create_user(username, password="not-used-pw-123")
        for role in roles:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
        return client

    return make


@pytest.fixture
def api(make_user, client_for) -> dict[str, APIClient]:
    """A token client per role: api["viewer"], api["trader"], api["risk_officer"], api["admin"]."""
    return {role: client_for(make_user(f"{role}-user", role)) for role in ROLES}
