"""`manage.py risk_check`: run the scheduled risk checks once, now, and print what they found
(the same run as the Celery beat task `risk.tasks.run_risk_checks`)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from risk import monitor


class Command(BaseCommand):
    help = "Run the scheduled risk checks once and print their new findings."

    def handle(self, *args, **options) -> None:
        events = monitor.run_checks_once()
        for event in events:
            self.stdout.write(f"{event.severity} {event.kind}: {event.message}")
        self.stdout.write(f"{len(events)} new finding(s)")
