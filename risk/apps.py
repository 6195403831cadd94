from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from risk.models import KillSwitch, RiskLimit

        auditlog.register(RiskLimit, exclude_fields=["updated_at"])
        auditlog.register(KillSwitch)
