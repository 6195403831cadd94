"""Test-wide fixtures live in tests/plugins/; each module there belongs to one part of the tree."""

import importlib.util

pytest_plugins = [
    name
    for name in (
        "tests.plugins.db",
        "tests.plugins.simulator",
        "tests.plugins.venues",
        "tests.plugins.api",
        "tests.plugins.daphne",
        "tests.plugins.trading",
        "tests.plugins.watchdog",
    )
    if importlib.util.find_spec(name) is not None
]
