from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.db.models.signals import post_save

        from risk.models import KillSwitch, RiskEvent, RiskLimit
        from risk.notify import publish_event_after_commit

        auditlog.register(RiskLimit, exclude_fields=["updated_at"])
        auditlog.register(KillSwitch)
        post_save.connect(
            publish_event_after_commit, sender=RiskEvent, dispatch_uid="risk-events-to-stream"
        )
