from django.apps import AppConfig

HIDDEN = "(hidden)"


def hide(value: str) -> str:
    """What the audit log keeps of a credential: that it changed, never any part of it."""
    return HIDDEN


class ExchangesConfig(AppConfig):
    name = "exchanges"

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth import get_user_model

        from exchanges.models import AccountGrant, Exchange, ExchangeAccount

        auditlog.register(Exchange, exclude_fields=["updated_at"])
        auditlog.register(
            ExchangeAccount,
            exclude_fields=["updated_at"],
            mask_fields=["api_key", "secret", "passphrase"],
            mask_callable="exchanges.apps.hide",
        )
        auditlog.register(AccountGrant)
        auditlog.register(
            get_user_model(),
            exclude_fields=["password", "last_login"],
            m2m_fields={"groups", "user_permissions"},
        )
