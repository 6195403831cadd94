from rest_framework.routers import SimpleRouter

from marketdata.api import views

router = SimpleRouter()
router.register("connectors", views.ConnectorViewSet, basename="connector")

urlpatterns = router.urls
