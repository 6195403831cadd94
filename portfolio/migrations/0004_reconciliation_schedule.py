"""Reconciliation of every enabled account every 5 minutes on Celery beat (django-celery-beat's
database scheduler), created enabled; operators change its interval or disable it in admin
("Periodic tasks": "Reconciliation")."""

from django.db import migrations

TASK = "portfolio.tasks.reconcile_accounts"
NAME = "Reconciliation"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_five, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={"task": TASK, "interval": every_five, "enabled": True},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portfolio", "0003_fills_ledger_cursors"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
