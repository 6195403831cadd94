"""The two servers `bench.order_path` talks to, each in its own process so that neither takes
the benchmark's interpreter lock (a simulator thread in the timing process would add its own
work to every measured call):

    python -m bench.order_servers simulator okx   # the simulator's face of one venue
    python -m bench.order_servers gateway okx     # daphne serving the gateway's ASGI app

Each prints one JSON line when it listens (`{"urls": ...}` for the simulator, `{"url": ...}`
for the gateway) and runs until its stdin closes. Both lift the venue's request budgets
(`bench.order_path` says why): the simulator with its `rate_limits` option off, the gateway
with `order_path.lift_budgets`. The gateway uses the `DATABASE_URL` it is given (the
benchmark's scratch database).
"""

from __future__ import annotations

import os
import sys
import threading

import orjson


def _ready(message: dict) -> None:
    sys.stdout.write(orjson.dumps(message).decode() + "\n")
    sys.stdout.flush()


def _until_stdin_closes() -> None:
    sys.stdin.read()


def simulator(venue_name: str) -> None:
    from exchanges.simulator.server import SimulatorThread
    from exchanges.venues.base import Venue

    venue = Venue(venue_name)
    sim = SimulatorThread(
        venues=[venue], seed=1, step_interval=0.05, face_options={venue: {"rate_limits": False}}
    )
    sim.start()
    credentials = sim.credentials[venue]
    _ready(
        {
            "urls": sim.urls[venue],
            "port": sim.ports[venue],
            "api_key": credentials.api_key,
            "secret": credentials.secret,
            "passphrase": credentials.passphrase,
        }
    )
    try:
        _until_stdin_closes()
    finally:
        sim.stop()


def gateway(venue_name: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")
    import django

    django.setup()
    from bench.order_path import lift_budgets
    from exchanges.venues.base import Venue
    from tests.plugins.daphne import LiveDaphne

    lift_budgets(Venue(venue_name))
    server = LiveDaphne()
    _ready({"url": server.url.replace("ws://", "http://").replace("/ws/stream", "")})
    watcher = threading.Thread(target=_until_stdin_closes, daemon=True)
    watcher.start()
    watcher.join()
    server.stop()


if __name__ == "__main__":
    role, venue = sys.argv[1], sys.argv[2]
    {"simulator": simulator, "gateway": gateway}[role](venue)
