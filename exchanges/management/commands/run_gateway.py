"""Run the whole gateway in one supervisor process: web (admin, REST, WebSockets), the market
data connectors, the local simulator, and the scheduled jobs.

In the embedded default (no `REDIS_URL`) the channel layer and the Celery broker live in memory,
so everything must share this process: daphne serves HTTP and WebSockets on its asyncio loop, the
market data service (`marketdata.connectors`, what `run_connectors` runs alone) runs on that
same loop, started once the reactor runs and stopped before it shuts down, the
simulator runs on its own thread and loop, and Celery beat runs embedded with tasks executed
eagerly. With `REDIS_URL` set, the Celery worker and beat run as a child process instead, and the
same pieces can also be started separately (see docker-compose.yml).
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from exchanges.models import Exchange
from exchanges.venues.base import Environment, Venue

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run web, simulator and scheduled jobs together (the `make run` entry point)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-simulator", action="store_true", help="do not start the local simulator"
        )
        parser.add_argument("--no-jobs", action="store_true", help="do not run Celery beat/worker")
        parser.add_argument(
            "--no-connectors",
            action="store_true",
            help="do not run the market data connectors (run `run_connectors` separately)",
        )
        parser.add_argument("--seed", type=int, default=1, help="simulator random seed")

    def handle(self, *args, **options) -> None:
        stoppers: list = []
        try:
            if not options["no_simulator"]:
                stoppers.append(self._start_simulator(options["seed"]))
            if not options["no_jobs"]:
                stoppers.append(self._start_jobs())
            self._serve_web(
                options["host"], options["port"], connectors=not options["no_connectors"]
            )
        finally:
            for stop in reversed(stoppers):
                stop()

    # -- parts ----------------------------------------------------------------------------

    def _start_simulator(self, seed: int):
        from exchanges.simulator.server import SimulatorThread

        venues = sorted(
            {
                Venue(venue)
                for venue in Exchange.objects.filter(
                    environment=Environment.SIMULATOR, enabled=True
                ).values_list("venue", flat=True)
            }
        ) or list(Venue)
        ports = {venue: settings.SIMULATOR_PORTS[venue.value] for venue in venues}
        simulator = SimulatorThread(
            venues=venues, host=settings.SIMULATOR_HOST, ports=ports, seed=seed
        )
        urls = simulator.start()
        for venue, venue_urls in urls.items():
            described = " ".join(f"{name}={url}" for name, url in venue_urls.items())
            self.stdout.write(f"simulator {venue} ready {described}")
        return simulator.stop

    def _start_jobs(self):
        from gateway_site.celery import app

        if settings.REDIS_URL:
            celery = shutil.which("celery", path=str(settings.BASE_DIR / ".venv" / "bin")) or (
                shutil.which("celery")
            )
            if celery is None:
                raise CommandError("celery is not installed")
            child = subprocess.Popen(
                [celery, "-A", "gateway_site", "worker", "-B", "--loglevel", "INFO"],
                cwd=settings.BASE_DIR,
            )
            self.stdout.write(f"celery worker+beat started (pid {child.pid})")

            def stop() -> None:
                child.send_signal(signal.SIGTERM)
                child.wait(timeout=30)

            return stop

        from celery.beat import EmbeddedService

        beat = EmbeddedService(app, thread=True, scheduler_cls=app.conf.beat_scheduler)
        beat.start()
        self.stdout.write("celery beat running embedded (tasks run in-process)")
        return beat.stop

    def _embed_connectors(self) -> None:
        """Start the market data service on daphne's asyncio loop once the reactor runs, and
        have the reactor wait for its `stop()` (streams closed, pending writes done) before it
        shuts down."""
        import asyncio

        from twisted.internet import defer, reactor

        from marketdata.connectors.service import MarketDataService

        service = MarketDataService()

        def start() -> None:
            started = asyncio.ensure_future(service.start())
            started.add_done_callback(self._connectors_started)

        def stop():
            if not service.started:
                return None
            return defer.Deferred.fromFuture(asyncio.ensure_future(service.stop()))

        reactor.callWhenRunning(start)
        reactor.addSystemEventTrigger("before", "shutdown", stop)

    def _connectors_started(self, started) -> None:
        if started.cancelled() or started.exception() is not None:
            log.error("market data connectors did not start", exc_info=started.exception())
            return
        self.stdout.write("market data connectors running")
        sys.stdout.flush()

    def _serve_web(self, host: str, port: int, *, connectors: bool) -> None:
        from channels.routing import get_default_application
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        def ready() -> None:
            self.stdout.write(
                f"gateway ready: http://{host}:{port}/admin/  http://{host}:{port}/api/v1/"
            )
            sys.stdout.flush()

        server = Server(
            application=get_default_application(),
            endpoints=build_endpoint_description_strings(host=host, port=port),
            signal_handlers=True,
            ready_callable=ready,
        )
        if connectors:
            self._embed_connectors()
        server.run()
