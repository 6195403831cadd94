"""The documented demo accounts the simulator opens when none is given on the command line.

`manage.py seed_demo` stores the same keys (encrypted) so that `make run` works out of the box.
They only ever open the local simulator; a real venue would reject them.
"""

from exchanges.venues.base import Credentials, Venue

DEMO_ACCOUNTS: dict[Venue, Credentials] = {
    Venue.DERIBIT: Credentials(api_key="SimDeribitDemoKey", secret="sim-deribit-demo-secret-0001"),
    Venue.OKX: Credentials(
        api_key="5b1c7d52-0e1a-4c36-9d3b-simokxdemo01",
        secret="SIMOKXDEMOSECRET00000000000000001",
        passphrase="sim-okx-demo-passphrase",
    ),
    Venue.BYBIT: Credentials(
        api_key="SimBybitDemoKey001", secret="SimBybitDemoSecret0000000000000000001"
    ),
}

# Starting wallets of the demo accounts (and of accounts given without balances).
DEMO_BALANCES: dict[Venue, dict[str, str]] = {
    Venue.DERIBIT: {"BTC": "10", "ETH": "100", "USDC": "100000"},
    Venue.OKX: {"USDT": "1000000", "BTC": "10", "ETH": "100", "USD": "0"},
    Venue.BYBIT: {"USDT": "1000000", "BTC": "10", "ETH": "100"},
}
