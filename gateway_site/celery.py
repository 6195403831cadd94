"""The Celery app: reconciliation, scheduled risk checks and retention run here.

With `REDIS_URL` set the broker is Redis; without it the broker is kombu's in-memory transport,
which only works inside one process (the `run_gateway` supervisor hosts worker and beat there).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")

app = Celery("gateway_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
