"""Fills since the account's cursor: every fill the venue lists is recorded once
(`orders.ingest.record_fill`) and counted once in its position (`portfolio.services.apply_fill`),
so a fill made while no stream was listening is recovered, and one already known changes
nothing.

The cursor is the venue client's own text (`RestClient.fills`), kept per account in a
`ReconciliationCursor`. Pages are read until the client hands back no cursor (Bybit, having
walked its categories newest first: the next run starts again from the latest) or the same one
again (OKX, Deribit: nothing newer). Every fill read is applied in the venue's time order, so a
position is built as it was traded whatever order the pages came in.
"""

from __future__ import annotations

from django.db import transaction

from exchanges.models import ExchangeAccount
from exchanges.venues.base import FillEvent
from exchanges.venues.protocols import RestClient
from orders import ingest
from portfolio import services
from portfolio.choices import CursorKind
from portfolio.models import ReconciliationCursor
from portfolio.reconciliation.common import Findings

MAX_PAGES = 200  # per run; a longer history resumes from the stored cursor next run


def reconcile_fills(account: ExchangeAccount, client: RestClient, findings: Findings) -> None:
    stored, _ = ReconciliationCursor.objects.get_or_create(account=account, kind=CursorKind.FILLS)
    cursor = stored.value or None
    events: dict[tuple[str, str], FillEvent] = {}
    for _ in range(MAX_PAGES):
        page = client.fills(cursor=cursor)
        for event in page.fills:
            events[(event.symbol, event.trade_id)] = event
        if page.cursor is None or page.cursor == cursor:
            cursor = page.cursor
            break
        cursor = page.cursor
    with transaction.atomic():  # one commit for the run's fills and the cursor after them
        for event in sorted(events.values(), key=lambda e: (e.exchange_ts, e.trade_id)):
            findings.checked += 1
            _record(account, event, findings)
        stored.value = cursor or ""
        stored.save(update_fields=["value", "updated_at"])


def _record(account: ExchangeAccount, event: FillEvent, findings: Findings) -> None:
    try:
        recorded = ingest.record_fill(account, event)
    except ingest.UnknownInstrument as error:
        findings.notes.append(f"fill {event.trade_id}: {error}")
        return
    position = services.apply_fill(recorded.fill)
    if recorded.created:
        findings.differ(
            "fill missing from the gateway",
            "recorded and counted in its position",
            trade_id=event.trade_id,
            symbol=event.symbol,
            side=str(event.side),
            quantity=event.quantity,
            price=event.price,
            order=recorded.order.pk if recorded.order is not None else None,
            position=position.pk,
        )
