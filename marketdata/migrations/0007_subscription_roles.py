"""Subscriptions in the API's roles (exchanges/migrations/0006_roles.py): every role reads
them, admins add, change and delete them. Running it again changes nothing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ("viewer", "trader", "risk_officer", "admin")
ADMIN = ("add_subscription", "change_subscription", "delete_subscription")


def grant_subscriptions(apps, schema_editor):
    app_config = apps.get_app_config("marketdata")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permission(codename):
        return Permission.objects.get(content_type__app_label="marketdata", codename=codename)

    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(permission("view_subscription"))
        if role == "admin":
            group.permissions.add(*(permission(codename) for codename in ADMIN))


def revoke_subscriptions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="marketdata", codename__endswith="_subscription"
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("marketdata", "0006_subscriptions_and_connector_health"),
        ("exchanges", "0006_roles"),
    ]

    operations = [migrations.RunPython(grant_subscriptions, revoke_subscriptions)]
