from rest_framework.routers import SimpleRouter

from risk.api import views

router = SimpleRouter()
router.register("risk-limits", views.RiskLimitViewSet, basename="risk-limit")
router.register("kill-switch", views.KillSwitchViewSet, basename="kill-switch")

urlpatterns = router.urls
