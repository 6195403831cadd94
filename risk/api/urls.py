from rest_framework.routers import SimpleRouter

from risk.api import views

router = SimpleRouter()
router.register("risk-limits", views.RiskLimitViewSet, basename="risk-limit")
router.register("kill-switch", views.KillSwitchViewSet, basename="kill-switch")
router.register("risk-events", views.RiskEventViewSet, basename="risk-event")
router.register("circuit-breakers/trips", views.BreakerTripViewSet, basename="breaker-trip")
router.register("circuit-breakers", views.CircuitBreakerViewSet, basename="circuit-breaker")

urlpatterns = router.urls
