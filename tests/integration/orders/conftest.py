"""The connector service fixtures of the market data tests (`captured`, `start_service`), for
the live order path tests."""

from tests.integration.marketdata.conftest import captured, start_service  # noqa: F401 (fixtures)
