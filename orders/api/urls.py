from rest_framework.routers import SimpleRouter

from orders.api import routed, views

router = SimpleRouter()
# before "orders": else /orders/routed/ would be read as the order with id "routed"
router.register("orders/routed", routed.RoutedOrderViewSet, basename="routed-order")
router.register("orders", views.OrderViewSet, basename="order")
router.register("fills", views.FillViewSet, basename="fill")

urlpatterns = router.urls
