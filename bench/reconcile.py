"""Reconciliation benchmark: `portfolio.reconciliation.reconcile_account` on one account with
`--orders` resting orders and `--fills` fills another client made on its keys.

    python -m bench.reconcile [--venue okx] [--orders 200] [--fills 20]

Starts the simulator as its own process (`manage.py run_simulator`, venue rate limits off, the
market generator paused so nothing moves between the runs), migrates a scratch SQLite database
in a temporary folder, places the orders and fills through the adapter's REST client, then
times:

1. the first run: every order adopted as external, every fill recorded and counted in its
   position, the position and the wallets taken (what recovering after an outage costs);
2. the second run: the same orders compared again and the fills since the cursor read (none
   new on OKX and Deribit; Bybit walks its last 7 days again), nothing written: what every
   scheduled run costs when the streams kept up.

Prints rows/s: orders and fills compared per second, REST calls to the simulator included.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from decimal import Decimal

import requests

from bench.simulator import NO_RATE_LIMITS, start_simulator
from exchanges.simulator.demo import DEMO_ACCOUNTS
from exchanges.venues.base import Venue

SYMBOL = {Venue.OKX: "BTC/USDT:USDT", Venue.BYBIT: "BTC/USDT:USDT", Venue.DERIBIT: "BTC/USD:BTC"}
SIZE = {Venue.OKX: Decimal(1), Venue.BYBIT: Decimal("0.001"), Venue.DERIBIT: Decimal(10)}


def _django(folder: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/bench_reconcile.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _account(venue: Venue, urls: dict[str, str]):
    from exchanges.models import Exchange, ExchangeAccount
    from exchanges.services import instruments_upsert
    from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS

    exchange = Exchange.objects.create(
        venue=venue,
        environment="simulator",
        name=f"{venue} bench",
        slug=f"{venue}-bench",
        rest_url=urls["rest"],
        public_ws_url=urls["ws_public"],
        private_ws_url=urls["ws_private"],
    )
    instruments_upsert(
        exchange=exchange, infos=[i for i in DEFAULT_INSTRUMENTS if i.venue == venue]
    )
    credentials = DEMO_ACCOUNTS[venue]
    return ExchangeAccount.objects.create(
        exchange=exchange,
        label="bench",
        api_key=credentials.api_key,
        secret=credentials.secret,
        passphrase=credentials.passphrase,
        permission="trade",
    )


def _trade(venue: Venue, account, orders: int, fills: int) -> None:
    """Another client on the account's keys: `orders` resting buys far below the market, and
    `fills` market orders, alternately buying and selling."""
    from exchanges.clients import rest_client
    from exchanges.models import Instrument
    from exchanges.venues.base import OrderRequest, OrderType, Side
    from portfolio.reconciliation.common import client_symbol

    instrument = Instrument.objects.get(exchange=account.exchange, symbol=SYMBOL[venue])
    rest = rest_client(exchange=account.exchange, account=account)
    rest.sync_clock()
    name = client_symbol(rest, instrument)
    low = (rest.ticker(name).best_bid * Decimal("0.8")).quantize(instrument.tick_size)
    for n in range(orders + fills):
        resting = n < orders
        rest.place_order(
            OrderRequest(
                symbol=instrument.symbol,
                venue_symbol=name,
                client_order_id=f"bench{n}x",
                side=Side.BUY if resting or n % 2 else Side.SELL,
                order_type=OrderType.LIMIT if resting else OrderType.MARKET,
                quantity=SIZE[venue],
                price=low - instrument.tick_size * (n % 50) if resting else None,
            )
        )
    rest.close()


def _timed(account) -> tuple[float, dict[str, tuple[int, int, str]]]:
    from portfolio.reconciliation import reconcile_account

    started = time.perf_counter()
    reports = reconcile_account(account)
    elapsed = time.perf_counter() - started
    return elapsed, {r.kind: (r.checked, r.mismatches, r.status) for r in reports}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venue", choices=[v.value for v in Venue], default="okx")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--fills", type=int, default=20)
    args = parser.parse_args()
    venue = Venue(args.venue)
    running = start_simulator(venue, 0.0, 0.05)
    try:
        rest = running.urls["rest"]
        requests.post(
            f"{rest}/_sim/config", json=NO_RATE_LIMITS[venue], timeout=5
        ).raise_for_status()
        requests.post(
            f"{rest}/_sim/generator", json={"running": False}, timeout=5
        ).raise_for_status()
        with tempfile.TemporaryDirectory() as folder:
            _django(folder)
            account = _account(venue, running.urls)
            _trade(venue, account, args.orders, args.fills)
            first = _timed(account)
            second = _timed(account)
    finally:
        running.stop()
    print(
        f"reconcile_account, {venue}: {args.orders} resting orders, {args.fills} fills, "
        "SQLite, simulator in its own process"
    )
    print(f"{'run':34}{'seconds':>9}{'rows/s':>9}   orders / fills checked (differed)")
    for name, (elapsed, kinds) in (
        ("first: adopt and recover", first),
        ("second: compare, nothing new", second),
    ):
        orders, fills = kinds["orders"], kinds["fills"]
        rows = orders[0] + fills[0]
        print(
            f"{name:34}{elapsed:>9.3f}{rows / elapsed:>9,.0f}   "
            f"{orders[0]} ({orders[1]}) / {fills[0]} ({fills[1]})"
        )
    if any(status == "error" for _, kinds in (first, second) for *_, status in kinds.values()):
        sys.exit("a report ended in an error")


if __name__ == "__main__":
    main()
