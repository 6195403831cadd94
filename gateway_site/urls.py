"""URL map: admin, the versioned REST API and its OpenAPI schema, and a health probe."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from gateway_site.api import views as api_views
from gateway_site.views import health, metrics

audit = SimpleRouter()
audit.register("audit", api_views.AuditViewSet, basename="audit")

api_v1 = [
    path("", api_views.api_root, name="api-root"),
    path("me/", api_views.me, name="me"),
    # The schema and its viewer are public, like /healthz; everything else needs a login.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path("", include("exchanges.api.urls")),
    path("", include("risk.api.urls")),
    path("", include("marketdata.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("portfolio.api.urls")),
    path("", include(audit.urls)),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("healthz", health, name="health"),
    path("metrics", metrics, name="metrics"),
]

handler400 = "gateway_site.api.errors.bad_request"
handler403 = "gateway_site.api.errors.permission_denied"
handler404 = "gateway_site.api.errors.page_not_found"
handler500 = "gateway_site.api.errors.server_error"
