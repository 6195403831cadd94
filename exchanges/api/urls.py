from rest_framework.routers import SimpleRouter

from exchanges.api import views

router = SimpleRouter()
router.register("exchanges", views.ExchangeViewSet, basename="exchange")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("instruments", views.InstrumentViewSet, basename="instrument")
router.register("grants", views.GrantViewSet, basename="grant")

urlpatterns = router.urls
