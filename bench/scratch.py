"""A scratch PostgreSQL database for a benchmark: dropped and created afresh, made the
process's `DATABASE_URL`, Django set up on it and migrated."""

from __future__ import annotations

import os

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def scratch_database(server: str, name: str) -> None:
    """Recreate database `name` on `server` (no database in the URL) and migrate it. Raises
    when the server is not usable: a benchmark then says it skipped."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    os.environ["DATABASE_URL"] = f"{server}/{name}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
