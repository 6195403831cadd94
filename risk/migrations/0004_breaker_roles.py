"""Circuit breakers and their trips in the API's roles (exchanges/migrations/0006_roles.py):
every role reads them; risk officers add and change breakers and reset trips. Running it again
changes nothing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ("viewer", "trader", "risk_officer", "admin")
READ = ("view_circuitbreaker", "view_breakertrip")
RISK_OFFICER = ("add_circuitbreaker", "change_circuitbreaker", "change_breakertrip")


def grant(apps, schema_editor):
    app_config = apps.get_app_config("risk")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(codenames):
        return Permission.objects.filter(content_type__app_label="risk", codename__in=codenames)

    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*permissions(READ))
        if role == "risk_officer":
            group.permissions.add(*permissions(RISK_OFFICER))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="risk", codename__in=READ + RISK_OFFICER
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0003_risk_checks_schedule"),
        ("exchanges", "0006_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
