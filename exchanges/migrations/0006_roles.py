"""The API's roles as Django groups, with their model permissions.

- viewer: every `view_*` permission of the gateway's apps, and `view_all_accounts`.
- trader: the `view_*` permissions (only granted accounts: no `view_all_accounts`) and order
  entry (`add_order`, `change_order`).
- risk_officer: what a viewer has, and risk limits and the kill switch.
- admin: what a viewer has, and exchanges, accounts and keys, grants, users, the audit log.

Permissions are created after migrations run; this one creates them first, so that a fresh
database gets its groups complete in one `migrate`. Running it again changes nothing.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GATEWAY_APPS = ("exchanges", "orders", "marketdata", "portfolio", "risk")

EXTRA = {
    "viewer": ["exchanges.view_all_accounts"],
    "trader": ["orders.add_order", "orders.change_order"],
    "risk_officer": [
        "exchanges.view_all_accounts",
        "risk.add_risklimit",
        "risk.change_risklimit",
        "risk.add_killswitch",
    ],
    "admin": [
        "exchanges.view_all_accounts",
        "exchanges.add_exchange",
        "exchanges.change_exchange",
        "exchanges.add_exchangeaccount",
        "exchanges.change_exchangeaccount",
        "exchanges.add_accountgrant",
        "exchanges.delete_accountgrant",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "auditlog.view_logentry",
    ],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    views = list(
        Permission.objects.filter(
            content_type__app_label__in=GATEWAY_APPS, codename__startswith="view_"
        ).exclude(codename="view_all_accounts")
    )
    for role, extra in EXTRA.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = list(views)
        for name in extra:
            app_label, codename = name.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(EXTRA)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("exchanges", "0005_account_grants"),
        ("orders", "0001_initial"),
        ("marketdata", "0001_initial"),
        ("portfolio", "0001_initial"),
        ("risk", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
