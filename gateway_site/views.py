"""Site-wide views outside the API: a health probe for load balancers, and the Prometheus
metrics of this process."""

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

LOOPBACK = {"127.0.0.1", "::1"}


def health(request) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def metrics(request) -> HttpResponse:
    """`GET /metrics`, Prometheus' text format, of this process (the web process, and the
    connectors when they run inside it). With `METRICS_TOKEN` set the scraper sends
    `Authorization: Bearer <token>`; without it only loopback clients are answered."""
    token = settings.METRICS_TOKEN
    if token:
        sent = request.headers.get("Authorization", "")
        allowed = hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    else:
        allowed = request.META.get("REMOTE_ADDR") in LOOPBACK
    if not allowed:
        return JsonResponse(
            {
                "error": {
                    "code": "permission_denied",
                    "message": "Not a metrics scraper.",
                    "fields": {},
                }
            },
            status=403,
        )
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
