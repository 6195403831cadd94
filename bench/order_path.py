"""Order path benchmark: submit to the venue's acknowledgement, through the gateway and beside
the bare adapter and ccxt, against the same simulator in the same run, on PostgreSQL.

    python -m bench.order_path [--venue okx] [--orders 300] [--clients 8]

Creates a scratch database (`gateway_bench_orders`), starts the simulator's face of `--venue`
and the gateway (daphne) on 127.0.0.1, each in its own process (`bench/order_servers.py`), and
stores an exchange, a trading account (the simulator's demo keys), its
instruments and a global risk limit (every check runs, none refuses). Each path places
`--orders` resting limit buys one after the other and times each from the call to the
acknowledgement; the open orders are cancelled between paths (not timed):

1. `adapter place_order`: the venue client the gateway itself uses (`orders.venue.client_for`),
   bare: signing, HTTP, parsing. The floor.
2. `ccxt create_order`: ccxt's synchronous client of the venue, unmodified, pointed at the
   simulator (`tests/support/ccxt.py` swaps the host only), markets loaded first.
3. `orders.services.submit_order`: validation, risk checks, the `pending_new` row and its event
   committed before sending, the send, the acknowledgement applied.
4. `POST /api/v1/orders/`: the same through the REST API on daphne, over HTTP with a token
   (one keep-alive connection).
5. `--clients` concurrent API clients, each its own connection, `--orders` in all: orders/s
   sustained and the latency each saw.

The venue's request budgets are lifted on both sides for the run (the simulator's
`rate_limits` option, and the adapter's limiter given budgets no run reaches), so what is timed
is the software, not the venue's 60 orders per 2 s: live, that limit caps order entry first.
Goal: the REST path's p50 at most 2x ccxt's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from decimal import Decimal

from bench.scratch import DEFAULT_SERVER, scratch_database

SCRATCH = "gateway_bench_orders"
PERPS = {
    "okx": ("BTC/USDT:USDT", "90000", "1"),
    "bybit": ("BTC/USDT:USDT", "90000", "0.01"),
    "deribit": ("BTC/USD:BTC", "90000", "10"),
}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99


def lift_budgets(venue) -> None:
    """Give every venue client of this process a budget no run reaches (module doc)."""
    import exchanges.clients as clients
    from exchanges.venues.ratelimit import Limit, RateLimiter
    from exchanges.venues.registry import get_adapter

    adapter = get_adapter(venue)
    unlimited = {group: Limit(rate=1_000_000, burst=1_000_000) for group in adapter.rate_limits}

    def rate_limiter(*, exchange, account=None):
        return RateLimiter(unlimited, adapter.rate_limit_default_group)

    clients.rate_limiter = rate_limiter


class Server:
    """One of `bench.order_servers`, as a child process; `info` is its ready line."""

    def __init__(self, role: str, venue: str) -> None:
        import orjson

        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.order_servers", role, venue],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=os.environ.copy(),
        )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"bench.order_servers {role} did not start")
        self.info = orjson.loads(line)

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def setup_rows(sim: dict, venue):
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from exchanges.models import AccountGrant, Exchange
    from exchanges.services import exchange_account_create, instruments_upsert
    from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
    from risk.models import RiskLimit

    urls = sim["urls"]
    exchange = Exchange.objects.create(
        venue=venue,
        environment="simulator",
        name=f"{venue} bench",
        slug=f"{venue}-bench",
        rest_url=urls["rest"],
        public_ws_url=urls["ws_public"],
        private_ws_url=urls["ws_private"],
        enabled=True,
    )
    instruments_upsert(
        exchange=exchange, infos=[i for i in DEFAULT_INSTRUMENTS if i.venue == venue]
    )
    account = exchange_account_create(
        exchange=exchange,
        label="bench",
        api_key=sim["api_key"],
        secret=sim["secret"],
        passphrase=sim["passphrase"],
        permission="trade",
    )
    RiskLimit.objects.create(
        name="bench: every check runs",
        max_order_notional=Decimal("100000000"),
        max_position=Decimal("1000000000"),
        max_open_orders=1_000_000,
        max_daily_loss=Decimal("100000000"),
    )
    user = User.objects.create_user("bench-trader", password="bench-pw-0001")
    user.groups.add(Group.objects.get(name="trader"))
    AccountGrant.objects.create(user=user, account=account)
    return account, Token.objects.create(user=user).key


def timed(call, count: int) -> list[float]:
    samples = []
    for index in range(count):
        started = time.perf_counter()
        call(index)
        samples.append(time.perf_counter() - started)
    return samples


def run(venue_name: str, orders: int, clients: int) -> dict[str, tuple[float, float, float]]:
    import ccxt
    import requests

    from exchanges.venues.base import OrderRequest, OrderType, Side, Venue
    from orders.ids import new_client_order_id
    from orders.models import Order
    from orders.services import submit_order
    from orders.venue import client_for
    from orders.venue import venue_name as name_of
    from tests.support.ccxt import api_urls

    venue = Venue(venue_name)
    symbol, price, quantity = PERPS[venue_name]
    lift_budgets(venue)
    # the API's per-user throttles (300 orders/min by default) would refuse a benchmark's pace
    os.environ["API_THROTTLE_ORDERS"] = os.environ["API_THROTTLE_USER"] = "10000000/min"
    simulator = Server("simulator", venue_name)
    gateway = None
    figures: dict[str, tuple[float, float, float]] = {}
    try:
        sim = simulator.info
        account, token = setup_rows(sim, venue)
        gateway = Server("gateway", venue_name)
        client = client_for(account)
        instrument = account.exchange.instruments.get(symbol=symbol)
        venue_symbol = name_of(client, instrument)

        def cancel_all() -> None:
            client.cancel_all(venue_symbol)

        def bare(_: int) -> None:
            client.place_order(
                OrderRequest(
                    symbol=symbol,
                    venue_symbol=venue_symbol,
                    client_order_id=new_client_order_id(),
                    side=Side.BUY,
                    order_type=OrderType.LIMIT,
                    quantity=Decimal(quantity),
                    price=Decimal(price),
                )
            )

        def record(label: str, samples: list[float], wall: float | None = None) -> None:
            p50, p99 = percentiles(samples)
            rate = len(samples) / (wall if wall is not None else sum(samples))
            figures[label] = (p50, p99, rate)
            cancel_all()

        bare(0)  # connections and caches warm, once per path
        record("adapter place_order (bare)", timed(bare, orders))

        exchange = getattr(ccxt, venue_name)(
            {
                "apiKey": sim["api_key"],
                "secret": sim["secret"],
                "password": sim["passphrase"],
                "enableRateLimit": False,
            }
        )
        exchange.urls["api"] = api_urls(venue, sim["port"])
        exchange.load_markets()

        def with_ccxt(_: int) -> None:
            exchange.create_order(symbol, "limit", "buy", float(quantity), float(price))

        with_ccxt(0)
        record("ccxt create_order", timed(with_ccxt, orders))

        def service(_: int) -> None:
            done = submit_order(
                account=account,
                symbol=symbol,
                side="buy",
                order_type="limit",
                quantity=Decimal(quantity),
                price=Decimal(price),
                actor="bench",
            )
            assert done.order.status == "new", done.order.status

        service(0)
        record("orders.services.submit_order", timed(service, orders))

        base = gateway.info["url"]
        body = {
            "account": account.pk,
            "symbol": symbol,
            "side": "buy",
            "type": "limit",
            "quantity": quantity,
            "price": price,
        }
        headers = {"Authorization": f"Token {token}"}

        def session() -> requests.Session:
            http = requests.Session()
            http.headers.update(headers)
            return http

        http = session()

        def api(_: int, http=http) -> None:
            response = http.post(f"{base}/api/v1/orders/", json=body, timeout=10)
            assert response.status_code == 201, response.text

        api(0)
        record("POST /api/v1/orders/", timed(api, orders))

        per_client = max(1, orders // clients)
        results: list[list[float]] = [[] for _ in range(clients)]
        start = threading.Barrier(clients + 1)

        failures: list[BaseException] = []

        def one(slot: int) -> None:
            mine = session()
            start.wait()
            try:
                results[slot] = timed(lambda i: api(i, http=mine), per_client)
            except BaseException as exc:  # re-raised below, in the main thread
                failures.append(exc)

        threads = [threading.Thread(target=one, args=(slot,)) for slot in range(clients)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        if failures:
            raise failures[0]
        record(
            f"POST /api/v1/orders/, {clients} clients",
            [s for samples in results for s in samples],
            wall,
        )
        made = Order.objects.filter(status="new").count()
        expected = 1 + orders + 1 + orders + per_client * clients
        assert made == expected, (made, expected)
    finally:
        if gateway is not None:
            gateway.stop()
        simulator.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venue", choices=sorted(PERPS), default="okx")
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=DEFAULT_SERVER, help="server, no database")
    args = parser.parse_args(argv)
    try:
        scratch_database(args.database_url.rstrip("/"), SCRATCH)
    except Exception as error:  # no server: the goal is stated on PostgreSQL
        print(f"order_path: PostgreSQL at {args.database_url} not usable ({error}); skipped")
        return 0
    figures = run(args.venue, args.orders, args.clients)
    print(
        f"order_path: {args.orders} resting limit orders on the {args.venue} simulator, "
        "PostgreSQL, submit to acknowledgement"
    )
    print(f"{'path':<40}{'p50 ms':>9}{'p99 ms':>9}{'orders/s':>10}{'p50 vs ccxt':>13}")
    ccxt_p50 = figures["ccxt create_order"][0]
    for label, (p50, p99, rate) in figures.items():
        print(
            f"{label:<40}{p50 * 1000:>9.2f}{p99 * 1000:>9.2f}{rate:>10,.0f}{p50 / ccxt_p50:>12.2f}x"
        )
    api_p50 = figures["POST /api/v1/orders/"][0]
    verdict = "met" if api_p50 <= 2 * ccxt_p50 else "not met"
    print(f"goal: REST p50 at most 2x ccxt's: {api_p50 / ccxt_p50:.2f}x ({verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
