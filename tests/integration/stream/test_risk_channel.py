"""`/ws/stream` channel `risk` over the real ASGI application in process: a snapshot of the
latest events and of what halts trading now (engaged kill switches, active breaker trips),
then every new risk event once committed; only for users who see every account. A trader
follows the risk events of granted accounts on `risk_events.<id>`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from exchanges.models import AccountGrant
from risk.models import KillSwitch, RiskEvent
from tests.factories import BreakerTripFactory, ExchangeAccountFactory, RiskEventFactory
from tests.integration.stream.conftest import stream_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def desk(user_with, listed):
    account = ExchangeAccountFactory()
    first = RiskEventFactory(account=account)
    second = RiskEventFactory(
        account=None, kind="stale_data", created_at=first.created_at + timedelta(seconds=1)
    )
    KillSwitch.objects.create(account=account, engaged=True, reason="loss", engaged_by="ops")
    KillSwitch.objects.create(account=None, engaged=True, reason="drill", engaged_by="ops")
    KillSwitch.objects.create(account=None, engaged=False, reason="over", engaged_by="ops")
    trip = BreakerTripFactory()
    BreakerTripFactory(reset_at=trip.tripped_at)  # reset: no longer halts anything
    return account, [first, second], trip


async def test_a_risk_officer_gets_the_state_then_each_new_event(desk, user_with):
    account, events, trip = desk
    _, token = await database_sync_to_async(user_with)("risk_officer")
    async with stream_client(f"token={token}") as client:
        assert await client.subscribe("risk") == {"type": "subscribed", "channels": ["risk"]}
        snapshot = await client.receive()
        assert (snapshot["type"], snapshot["channel"]) == ("snapshot", "risk")
        data = snapshot["data"]
        assert [e["id"] for e in data["events"]] == [e.pk for e in events]
        assert data["events"][0] == {
            "id": events[0].pk,
            "kind": "order_rejected",
            "severity": "warning",
            "account": account.pk,
            "order": None,
            "message": "order notional 2000000 above the limit 1000000",
            "details": {"limit": "1000000"},
            "created_at": data["events"][0]["created_at"],
        }
        assert [(s["account"], s["reason"]) for s in data["kill_switches"]] == [
            (account.pk, "loss")
        ]
        assert [t["id"] for t in data["breaker_trips"]] == [trip.pk]
        assert data["breaker_trips"][0]["move_pct"] == "-6.000000000000000000"

        @database_sync_to_async
        def breach():
            with transaction.atomic():
                made = RiskEvent.objects.create(
                    kind="daily_loss", severity="critical", account=account, message="loss 5000"
                )
            with transaction.atomic():  # rolled back: never published
                RiskEvent.objects.create(kind="daily_loss", account=account, message="undone")
                transaction.set_rollback(True)
            return made

        made = await breach()
        update = await client.receive()
        assert (update["type"], update["channel"]) == ("update", "risk")
        assert [(e["id"], e["severity"], e["message"]) for e in update["data"]["events"]] == [
            (made.pk, "critical", "loss 5000")
        ]
        assert await client.communicator.receive_nothing(0.2)


async def test_a_trader_may_not_read_every_account_s_risk_events(desk, user_with):
    _, token = await database_sync_to_async(user_with)("trader")
    async with stream_client(f"token={token}") as client:
        assert await client.subscribe("risk") == {
            "type": "error",
            "code": "forbidden",
            "message": "you may not read 'risk'",
            "channel": "risk",
        }
        assert (await client.receive()) == {"type": "subscribed", "channels": []}


async def test_a_trader_follows_the_risk_events_of_granted_accounts(desk, user_with):
    account, events, _ = desk
    other = await database_sync_to_async(ExchangeAccountFactory)()

    @database_sync_to_async
    def granted_trader():
        user, token = user_with("trader")
        AccountGrant.objects.create(user=user, account=account)
        return token

    token = await granted_trader()
    async with stream_client(f"token={token}") as client:
        assert await client.subscribe("risk_events") == {
            "type": "subscribed",
            "channels": ["risk_events"],
        }
        snapshot = await client.receive()
        assert (snapshot["type"], snapshot["channel"]) == ("snapshot", f"risk_events.{account.pk}")
        # the account's own events only: the global one (no account) is not the trader's
        assert snapshot["data"]["account"] == account.pk
        assert [e["id"] for e in snapshot["data"]["risk_events"]] == [events[0].pk]

        @database_sync_to_async
        def findings():
            theirs = RiskEvent.objects.create(kind="daily_loss", account=other, message="theirs")
            mine = RiskEvent.objects.create(
                kind="kill_switch", severity="critical", account=account, message="engaged"
            )
            RiskEvent.objects.create(kind="stale_data", account=None, message="global")
            return theirs, mine

        _, mine = await findings()
        update = await client.receive()
        assert (update["type"], update["channel"]) == ("update", f"risk_events.{account.pk}")
        assert [(e["id"], e["kind"], e["message"]) for e in update["data"]["risk_events"]] == [
            (mine.pk, "kill_switch", "engaged")
        ]
        assert await client.communicator.receive_nothing(0.2)
        assert await client.subscribe(f"risk_events.{other.pk}") == {
            "type": "error",
            "code": "unknown_channel",
            "message": f"'risk_events.{other.pk}': no account {other.pk}",
            "channel": f"risk_events.{other.pk}",
        }
        assert await client.receive() == {"type": "subscribed", "channels": []}
