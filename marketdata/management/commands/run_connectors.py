"""`manage.py run_connectors [--exchange SLUG ...] [--metrics-port N]`: the market data service
as its own process (`marketdata.connectors.service`), until SIGTERM or SIGINT.

With `REDIS_URL` set the feed reaches the web processes through the Redis channel layer and
cache; without it, the connectors run inside `run_gateway` instead (an in-memory layer does not
cross processes). `--exchange` limits the process to some exchanges (one process per shard);
`--metrics-port` serves this process's prometheus metrics on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gc
import signal

from django.core.management.base import BaseCommand, CommandError

from exchanges.models import Exchange


class Command(BaseCommand):
    help = "Stream market data from the enabled exchanges' subscriptions until SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--exchange",
            action="append",
            dest="exchanges",
            default=[],
            metavar="SLUG",
            help="only this exchange (repeat for several); default: every enabled exchange",
        )
        parser.add_argument(
            "--metrics-port",
            type=int,
            default=None,
            help="serve prometheus metrics on 127.0.0.1:PORT",
        )

    def handle(self, *args, exchanges: list[str], metrics_port: int | None, **options) -> None:
        known = set(Exchange.objects.filter(slug__in=exchanges).values_list("slug", flat=True))
        unknown = sorted(set(exchanges) - known)
        if unknown:
            raise CommandError(f"no exchange with slug {', '.join(unknown)}")
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr="127.0.0.1")
            self.stdout.write(f"metrics on http://127.0.0.1:{metrics_port}/metrics")
        asyncio.run(self._run(exchanges))
        self.stdout.write("connectors stopped")

    async def _run(self, slugs: list[str]) -> None:
        from marketdata.connectors.service import MarketDataService

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        service = MarketDataService(slugs=slugs)
        await service.start()
        gc.freeze()  # the start-up heap is long-lived: keep the collector off it (hot path)
        names = ", ".join(c.slug for c in service.connectors.values()) or "no exchanges yet"
        self.stdout.write(f"connectors running: {names}")
        self.stdout.flush()
        try:
            await stop.wait()
        finally:
            await service.stop()
