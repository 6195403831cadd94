from rest_framework.routers import SimpleRouter

from marketdata.api import views

router = SimpleRouter()
router.register("connectors", views.ConnectorViewSet, basename="connector")
router.register("marketdata/subscriptions", views.SubscriptionViewSet, basename="subscription")

urlpatterns = router.urls
