"""Site-wide views: the API root and a health probe for load balancers."""

from django.db import connection
from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse


@extend_schema(responses=OpenApiTypes.OBJECT, description="Links to the API's parts.")
@api_view(["GET"])
def api_root(request: Request) -> Response:
    return Response(
        {
            "schema": reverse("schema", request=request),
            "docs": reverse("api-docs", request=request),
        }
    )


def health(request) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
