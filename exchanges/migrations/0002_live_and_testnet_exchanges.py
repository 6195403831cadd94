"""The real live and testnet deployments of the three venues, created disabled.

URLs (rest_url is the host base; adapters add /api/v2, /api/v5 or /v5):
- Deribit: https://www.deribit.com, wss://www.deribit.com/ws/api/v2 (public and private);
  testnet test.deribit.com. Rate limits: the non-matching-engine credit pool (20/s, burst 100)
  and the matching-engine pool (5/s, burst 20) of a base-tier account.
- OKX: https://www.okx.com, wss://ws.okx.com:8443/ws/v5/{public,private}; demo trading uses the
  same REST host with header `x-simulated-trading: 1` and wss://wspap.okx.com:8443/ws/v5/...
  Rate limits: most endpoints 20 requests per 2 s; order placement 60 per 2 s.
- Bybit: https://api.bybit.com, wss://stream.bybit.com/v5/public (prefix, the adapter appends
  /spot|/linear|/inverse|/option) and /v5/private; testnet api-testnet / stream-testnet.
  Rate limits: 600 requests per 5 s per IP (100/s with burst 100 stays under it); order
  creation 10/s per UID.
"""

from django.db import migrations

EXCHANGES = [
    # venue, environment, name, slug, rest, public ws, private ws, rps, burst, order rps, order burst
    ("deribit", "live", "Deribit", "deribit-live", "https://www.deribit.com",
     "wss://www.deribit.com/ws/api/v2", "wss://www.deribit.com/ws/api/v2", 20, 100, 5, 20),
    ("deribit", "testnet", "Deribit testnet", "deribit-testnet", "https://test.deribit.com",
     "wss://test.deribit.com/ws/api/v2", "wss://test.deribit.com/ws/api/v2", 20, 100, 5, 20),
    ("okx", "live", "OKX", "okx-live", "https://www.okx.com",
     "wss://ws.okx.com:8443/ws/v5/public", "wss://ws.okx.com:8443/ws/v5/private", 10, 20, 30, 60),
    ("okx", "testnet", "OKX demo trading", "okx-testnet", "https://www.okx.com",
     "wss://wspap.okx.com:8443/ws/v5/public", "wss://wspap.okx.com:8443/ws/v5/private",
     10, 20, 30, 60),
    ("bybit", "live", "Bybit", "bybit-live", "https://api.bybit.com",
     "wss://stream.bybit.com/v5/public", "wss://stream.bybit.com/v5/private", 100, 100, 10, 10),
    ("bybit", "testnet", "Bybit testnet", "bybit-testnet", "https://api-testnet.bybit.com",
     "wss://stream-testnet.bybit.com/v5/public", "wss://stream-testnet.bybit.com/v5/private",
     100, 100, 10, 10),
]  # fmt: skip


def create_exchanges(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    for row in EXCHANGES:
        venue, environment, name, slug, rest, public, private, rps, burst, orps, oburst = row
        Exchange.objects.update_or_create(
            slug=slug,
            defaults={
                "venue": venue,
                "environment": environment,
                "name": name,
                "rest_url": rest,
                "public_ws_url": public,
                "private_ws_url": private,
                "enabled": False,
                "requests_per_second": rps,
                "burst": burst,
                "order_requests_per_second": orps,
                "order_burst": oburst,
            },
        )


def delete_exchanges(apps, schema_editor):
    Exchange = apps.get_model("exchanges", "Exchange")
    Exchange.objects.filter(
        slug__in=[row[3] for row in EXCHANGES], accounts__isnull=True, instruments__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("exchanges", "0001_initial")]

    operations = [migrations.RunPython(create_exchanges, delete_exchanges)]
