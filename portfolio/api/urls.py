from rest_framework.routers import SimpleRouter

from portfolio.api import views

router = SimpleRouter()
router.register("positions", views.PositionViewSet, basename="position")
router.register("balances", views.BalanceViewSet, basename="balance")
router.register("reconciliation/reports", views.ReportViewSet, basename="reconciliation-report")
router.register("reconciliation/run", views.RunViewSet, basename="reconciliation-run")

urlpatterns = router.urls
