"""The teardown watchdog (tests/plugins/watchdog.py) in a pytest of its own: an async fixture
whose teardown never ends is cancelled after the limit, the test stays passed, the next test
runs, and a warning names the fixture's line where it waited."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings

HANGING = """
import asyncio

import pytest


@pytest.fixture
async def stuck():
    yield
    await asyncio.get_running_loop().create_future()  # never done


async def test_with_a_teardown_that_never_ends(stuck):
    assert True


def test_after_it():
    assert True
"""


def test_a_stuck_teardown_is_cancelled_and_reported(tmp_path: Path):
    test_file = tmp_path / "test_hanging.py"
    test_file.write_text(HANGING)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            "pyproject.toml",
            "--rootdir",
            str(tmp_path),
            "-p",
            "tests.plugins.watchdog",
            str(test_file),
        ],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "TEST_TEARDOWN_LIMIT": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed, 1 warning" in done.stdout
    assert (
        "watchdog: the teardown of test_hanging.py::test_with_a_teardown_that_never_ends"
        in done.stdout
    )
    assert f"{test_file}:10 in stuck" in done.stdout
