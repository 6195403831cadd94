"""The roles get the permissions of the models added since the roles migration
(`view_arbitrageopportunity`): that migration's `create_roles`, run again, sets every role's
permissions from the models there are now (running it twice changes nothing)."""

import importlib

from django.db import migrations

roles = importlib.import_module("exchanges.migrations.0006_roles")


class Migration(migrations.Migration):
    dependencies = [
        ("marketdata", "0004_instrument_indexes_lead_composites"),
        ("exchanges", "0007_instrument_min_notional"),
    ]

    operations = [migrations.RunPython(roles.create_roles, migrations.RunPython.noop)]
