"""The portfolio's new rows in the API's roles (exchanges/migrations/0006_roles.py): every
role, as every role reads orders, reads ledger entries, applied fills and reconciliation
cursors (positions, balances and reports it read already); risk officers and admins may run a
reconciliation now (`run_reconciliation`, and the admin's "accounts to reconcile" page).
Running it again changes nothing."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = ("viewer", "trader", "risk_officer", "admin")
VIEW = ("view_ledgerentry", "view_appliedfill", "view_reconciliationcursor")
RUN = ("run_reconciliation", "view_reconciledaccount")
RUNNERS = ("risk_officer", "admin")


def grant(apps, schema_editor):
    app_config = apps.get_app_config("portfolio")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permission(codename):
        return Permission.objects.get(content_type__app_label="portfolio", codename=codename)

    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(permission(codename) for codename in VIEW))
        if role in RUNNERS:
            group.permissions.add(*(permission(codename) for codename in RUN))


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLES):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="portfolio", codename__in=[*VIEW, *RUN]
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0005_reconciled_account"),
        ("exchanges", "0006_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
