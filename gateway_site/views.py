"""Site-wide views outside the API: a health probe for load balancers."""

from django.db import connection
from django.http import JsonResponse


def health(request) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
