"""The README's Python example runs as written against the simulator (only the port differs:
the test's simulator listens on a free one)."""

import re
import subprocess
import sys
from pathlib import Path

from exchanges.venues.base import Venue

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_adapter_example_runs(sim_module):
    (example,) = [block for block in python_blocks() if "get_adapter" in block]
    port = sim_module.ports[Venue.OKX]
    script = example.replace("127.0.0.1:8802", f"127.0.0.1:{port}")
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=README.parent,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    status, price = lines[0].split()
    assert status == "new"
    assert price.endswith(tuple("0123456789")) and "." in price
    assert lines[1:3] == ["pending_cancel", "canceled"]
    assert len(lines) == 6
    kinds = {"BookSnapshot", "BookDelta", "Trade", "Ticker"}
    for line in lines[3:]:
        kind, symbol = line.split()
        assert (kind in kinds, symbol) == (True, "BTC/USDT:USDT"), lines
