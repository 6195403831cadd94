"""The venue REST client of an account, kept per process and thread.

Building a client reads and decrypts the account's keys and opens a connection pool; doing that
per order would cost more than the order. A client is kept for each (account, thread) and
rebuilt when the account or its exchange row changes (new keys, endpoints, rate percent). Its
symbol table starts with the exchange's instruments from the database, so no call waits on
the venue's instrument listing.
"""

from __future__ import annotations

import threading

from exchanges.clients import rest_client
from exchanges.models import ExchangeAccount
from exchanges.venues.protocols import RestClient

_local = threading.local()


def _version(account: ExchangeAccount) -> tuple:
    return (account.pk, account.updated_at, account.exchange.updated_at)


def client_for(account: ExchangeAccount) -> RestClient:
    """This thread's client of `account` (built on first use, rebuilt when the rows change)."""
    clients: dict = getattr(_local, "clients", None) or {}
    _local.clients = clients
    version = _version(account)
    held = clients.get(account.pk)
    if held is not None and held[0] == version:
        return held[1]
    if held is not None:
        held[1].close()
    client = rest_client(exchange=account.exchange, account=account)
    infos = [row.info() for row in account.exchange.instruments.select_related("exchange")]
    client.symbols.add_all(infos)
    clients[account.pk] = (version, client)
    return client


def venue_name(client: RestClient, instrument) -> str:
    """The name `client` takes for `instrument` in its calls: the symbol table's, which says
    which instrument is meant where the venue's bare name does not (Bybit `linear:BTCUSDT`)."""
    return client.symbols.venue(instrument.symbol)


def forget_clients() -> None:
    """Close this thread's clients (tests, and a process shutting down)."""
    for _, client in (getattr(_local, "clients", None) or {}).values():
        client.close()
    _local.clients = {}
