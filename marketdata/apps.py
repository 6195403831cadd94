from django.apps import AppConfig


class MarketdataConfig(AppConfig):
    name = "marketdata"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from marketdata.models import Subscription

        auditlog.register(Subscription, exclude_fields=["updated_at"])
