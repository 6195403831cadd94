"""Site-wide behaviour: deploy checks, the health probe, the API root and its OpenAPI schema."""

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "p" * 30 + "roduction-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "gateway.example.com",
}


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        GATEWAY_SECRETS_KEYS=Fernet.generate_key().decode(),
        **PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_encryption_keys():
    env = {key: value for key, value in os.environ.items() if key != "GATEWAY_SECRETS_KEYS"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={**env, **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "GATEWAY_SECRETS_KEY must be set when DEBUG is false" in result.stderr


def test_health_probe(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_api_requires_authentication(client):
    response = client.get("/api/v1/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_api_root_and_schema_for_an_operator(client):
    user = get_user_model().objects.create_user("desk", password="x-very-long-password-1")
    client.force_login(user)
    root = client.get("/api/v1/")
    assert root.status_code == 200
    assert root.json() == {
        "schema": "http://testserver/api/v1/schema/",
        "docs": "http://testserver/api/v1/docs/",
        "me": "http://testserver/api/v1/me/",
    }
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Crypto trading gateway API"
