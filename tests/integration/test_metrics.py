"""`/metrics`: Prometheus' text format with the gateway's own metrics; loopback only, or a
bearer token when METRICS_TOKEN is set."""

import pytest

from marketdata import metrics


@pytest.fixture(autouse=True)
def _db(db):
    pass


def test_metrics_are_served_to_a_loopback_scraper(client):
    metrics.FEED_PUBLISHED.inc(3)
    before = metrics.FEED_PUBLISHED._value.get()

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    assert f"gateway_feed_published_total {before}" in body
    for name in [
        "gateway_stream_messages_total",
        "gateway_stream_reconnects_total",
        "gateway_book_rebuilds_total",
        "gateway_stream_lag_seconds",
        "gateway_ws_clients",
        "gateway_ws_conflated_total",
    ]:
        assert f"# TYPE {name.removesuffix('_total')}" in body


def test_another_host_is_refused_without_the_token(client):
    response = client.get("/metrics", REMOTE_ADDR="10.0.0.5")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_with_a_token_only_the_token_counts(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 403
    right = client.get(
        "/metrics", REMOTE_ADDR="10.0.0.5", HTTP_AUTHORIZATION="Bearer s3cret-scrape"
    )
    assert right.status_code == 200
    assert b"gateway_feed_published_total" in right.content
