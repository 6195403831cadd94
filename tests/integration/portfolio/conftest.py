import pytest


@pytest.fixture(autouse=True)
def _portfolio_tests_start_unthrottled(fresh_throttles):
    return None
