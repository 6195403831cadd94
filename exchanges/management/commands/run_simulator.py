"""`manage.py run_simulator`: the local Deribit/OKX/Bybit simulator on its ports until stopped.

    manage.py run_simulator --venues deribit,okx,bybit --host 127.0.0.1 \\
        --port-deribit 8801 --port-okx 8802 --port-bybit 8803 --seed 1 \\
        --account okx:KEY:SECRET:PASSPHRASE --taker-rate 2 --okx-book-mode current \\
        --fault okx:lose_acks=1

Prints one `<venue> ready rest=... ws_public=... ws_private=...` line per venue once it listens,
then runs until SIGINT or SIGTERM. Without `--account`, each venue opens its documented demo
account (`exchanges.simulator.demo`). The simulator itself is plain Python
(`exchanges.simulator.server`); this command only reads options and settings.
"""

from __future__ import annotations

import asyncio
import json
import signal
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.market.generator import MarketConfig, build_engine
from exchanges.simulator.server import DEFAULT_PORTS, Simulator
from exchanges.venues.base import Credentials, Venue

OKX_BOOK_MODES = ("current", "checksum", "no_snapshot")


def parse_account(text: str) -> tuple[Venue, Credentials]:
    """`VENUE:KEY:SECRET[:PASSPHRASE]` -> (venue, credentials)."""
    parts = text.split(":", 3)
    if len(parts) < 3 or not all(parts[:3]):
        raise CommandError(f"--account {text!r}: expected VENUE:KEY:SECRET[:PASSPHRASE]")
    try:
        venue = Venue(parts[0].lower())
    except ValueError as exc:
        raise CommandError(f"--account {text!r}: unknown venue {parts[0]!r}") from exc
    passphrase = parts[3] if len(parts) == 4 else ""
    return venue, Credentials(api_key=parts[1], secret=parts[2], passphrase=passphrase)


def parse_fault(text: str) -> tuple[Venue, str, object]:
    """`VENUE:NAME=VALUE` (VALUE as JSON: 2, 0.1, true) -> (venue, name, value)."""
    venue_text, _, assignment = text.partition(":")
    name, equals, raw = assignment.partition("=")
    if not equals or not name:
        raise CommandError(f"--fault {text!r}: expected VENUE:NAME=VALUE")
    try:
        venue = Venue(venue_text.lower())
    except ValueError as exc:
        raise CommandError(f"--fault {text!r}: unknown venue {venue_text!r}") from exc
    if name not in Faults.settable():
        raise CommandError(f"--fault {text!r}: unknown fault {name!r}")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise CommandError(f"--fault {text!r}: {raw!r} is not a number or true/false") from exc
    return venue, name, value


class Command(BaseCommand):
    help = "Run the local Deribit/OKX/Bybit simulator (real wire protocols) until interrupted."

    def add_arguments(self, parser: CommandParser) -> None:
        ports = getattr(settings, "SIMULATOR_PORTS", {})
        parser.add_argument(
            "--venues",
            default=",".join(v.value for v in Venue),
            help="comma-separated venues (default: deribit,okx,bybit)",
        )
        parser.add_argument(
            "--host", default=getattr(settings, "SIMULATOR_HOST", "127.0.0.1"), help="bind address"
        )
        for venue in Venue:
            parser.add_argument(
                f"--port-{venue.value}",
                type=int,
                default=ports.get(venue.value, DEFAULT_PORTS[venue]),
                help=f"{venue.value} port (0 = any free port)",
            )
        parser.add_argument("--seed", type=int, default=1, help="random seed (market and faults)")
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="VENUE:KEY:SECRET[:PASSPHRASE]",
            help="open this account (repeatable); default: the demo account of each venue",
        )
        parser.add_argument(
            "--taker-rate",
            type=Decimal,
            default=Decimal(2),
            help="generated taker trades per second per instrument",
        )
        parser.add_argument(
            "--step-interval", type=Decimal, default=Decimal("0.05"), help="generator step, seconds"
        )
        parser.add_argument(
            "--okx-book-mode",
            choices=OKX_BOOK_MODES,
            default="current",
            help="OKX books: current (snapshot, checksum 0), checksum (CRC32), no_snapshot",
        )
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="VENUE:NAME=VALUE",
            help="start-up fault (repeatable), e.g. okx:lose_acks=1 or bybit:drop_ws_probability=0.01",
        )

    def handle(self, *args: object, **options: object) -> None:
        try:
            venues = [
                Venue(v.strip().lower()) for v in str(options["venues"]).split(",") if v.strip()
            ]
        except ValueError as exc:
            raise CommandError(f"--venues: {exc}") from exc
        if not venues:
            raise CommandError("--venues: name at least one venue")
        accounts = [parse_account(text) for text in options["account"]] or None
        faults: dict[Venue, dict] = {}
        for text in options["fault"]:
            venue, name, value = parse_fault(text)
            faults.setdefault(venue, {})[name] = value
        seed = int(options["seed"])
        try:
            engine = build_engine(
                seed=seed, config=MarketConfig(taker_rate=float(options["taker_rate"]))
            )
            simulator = Simulator(
                engine,
                venues,
                host=str(options["host"]),
                ports={v: int(options[f"port_{v.value}"]) for v in venues},
                seed=seed,
                accounts=accounts,
                step_interval=float(options["step_interval"]),
                face_options={Venue.OKX: {"book_mode": options["okx_book_mode"]}}
                if Venue.OKX in venues
                else None,
                faults=faults,
            )
            asyncio.run(self._serve(simulator))
        except (OSError, ValueError, ImportError) as exc:
            raise CommandError(str(exc)) from exc

    async def _serve(self, simulator: Simulator) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        urls = await simulator.start()
        try:
            for venue, venue_urls in urls.items():
                described = " ".join(f"{name}={url}" for name, url in venue_urls.items())
                self.stdout.write(f"{venue.value} ready {described}")
            self.stdout.flush()
            await stop.wait()
        finally:
            await simulator.stop()
            self.stdout.write("simulator stopped")
