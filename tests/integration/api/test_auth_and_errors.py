"""Logins and the one error format: tokens, sessions with CSRF, and every kind of error."""

import pytest
from rest_framework.test import APIClient

from gateway_site.api.throttles import OrderEntryThrottle
from tests.plugins.api import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/",
        "/api/v1/me/",
        "/api/v1/exchanges/",
        "/api/v1/accounts/",
        "/api/v1/instruments/",
        "/api/v1/connectors/",
        "/api/v1/risk-limits/",
        "/api/v1/kill-switch/",
        "/api/v1/grants/",
        "/api/v1/audit/",
    ],
)
def test_every_endpoint_needs_a_login(path):
    error = assert_error(APIClient().get(path), 401, "not_authenticated")
    assert error["message"] == "Authentication credentials were not provided."


def test_a_wrong_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert_error(client.get("/api/v1/me/"), 401, "authentication_failed")


def test_health_and_schema_need_no_login():
    client = APIClient()
    assert client.get("/healthz").json() == {"status": "ok"}
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Crypto trading gateway API"
    assert client.get("/api/v1/docs/").status_code == 200


def test_a_token_authenticates(api):
    response = api["viewer"].get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "id": response.json()["id"],
        "username": "viewer-user",
        "roles": ["viewer"],
        "is_superuser": False,
        "accounts": [],
    }


def test_session_writes_need_the_csrf_token(make_user):
    make_user("alice", "risk_officer")
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="alice", password="not-used-pw-123")
    assert client.get("/api/v1/kill-switch/").status_code == 200  # reads need no CSRF token
    refused = client.post("/api/v1/kill-switch/", {"engaged": True, "reason": "x"}, format="json")
    error = assert_error(refused, 403, "permission_denied")
    assert "CSRF" in error["message"]
    client.get("/admin/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        "/api/v1/kill-switch/",
        {"engaged": True, "reason": "drill"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert accepted.status_code == 201


def test_unknown_path_is_404_in_the_error_format(api):
    error = assert_error(api["viewer"].get("/api/v1/nothing-here/"), 404, "not_found")
    assert error["message"] == "Nothing at /api/v1/nothing-here/."


def test_unknown_object_is_404(api):
    assert_error(api["viewer"].get("/api/v1/exchanges/999999/"), 404, "not_found")


def test_method_not_allowed_is_405(api):
    error = assert_error(api["admin"].put("/api/v1/exchanges/", {}), 405, "method_not_allowed")
    assert error["message"] == 'Method "PUT" not allowed.'
    assert_error(api["admin"].delete("/api/v1/exchanges/1/"), 405, "method_not_allowed")


def test_other_media_types_are_415(api):
    response = api["admin"].post(
        "/api/v1/exchanges/", data="name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_malformed_json_is_400(api):
    response = api["admin"].post(
        "/api/v1/exchanges/", data='{"name": "x",', content_type="application/json"
    )
    error = assert_error(response, 400, "malformed_request")
    assert error["message"].startswith("JSON parse error")


def test_validation_errors_name_each_field(api):
    response = api["admin"].post("/api/v1/exchanges/", {"name": "x", "venue": "ftx"}, format="json")
    assert_error(
        response,
        400,
        "validation_error",
        {
            "venue": ['"ftx" is not a valid choice.'],
            "environment": ["This field is required."],
            "rest_url": ["This field is required."],
            "ws_public_url": ["This field is required."],
            "ws_private_url": ["This field is required."],
        },
    )


def test_throttled_is_429_with_retry_after(api, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "3/min"}
    client = api["viewer"]
    assert [client.get("/api/v1/exchanges/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/api/v1/exchanges/")
    error = assert_error(response, 429, "throttled")
    assert error["message"].startswith("Request was throttled.")
    assert 0 < int(response["Retry-After"]) <= 60


def test_order_entry_has_its_own_rate(settings, make_user):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "orders": "2/min"}
    throttle = OrderEntryThrottle()
    assert (throttle.num_requests, throttle.duration) == (2, 60)
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "orders": "10/s"}
    assert (OrderEntryThrottle().num_requests, OrderEntryThrottle().duration) == (10, 1)


def test_server_errors_reveal_nothing(api, monkeypatch):
    from exchanges.api import views

    def broken(self):
        raise RuntimeError("internal detail: database password is hunter2")

    monkeypatch.setattr(views.InstrumentViewSet, "get_queryset", broken)
    client = api["viewer"]
    client.raise_request_exception = False
    response = client.get("/api/v1/instruments/")
    error = assert_error(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert error["message"] == "The server failed to answer; the error is logged."
