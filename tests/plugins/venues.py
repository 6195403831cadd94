"""Access to the recorded venue payloads in tests/fixtures/venues (each folder's SOURCES.md, and
the top-level SOURCES.md, say where every file comes from)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENUE_FIXTURES = REPO_ROOT / "tests" / "fixtures" / "venues"


def payload_path(venue: str, name: str) -> Path:
    """The file `name` (with or without .json) of `venue`."""
    filename = name if name.endswith((".json", ".jsonl")) else f"{name}.json"
    path = VENUE_FIXTURES / venue / filename
    if not path.exists():
        raise FileNotFoundError(f"no recorded payload {venue}/{filename} in {VENUE_FIXTURES}")
    return path


def load_raw(venue: str, name: str) -> str:
    return payload_path(venue, name).read_text()


def load_payload(venue: str, name: str, *, decimals: bool = False):
    """The payload as JSON; with `decimals=True` JSON numbers become Decimal (Deribit sends numbers)."""
    text = load_raw(venue, name)
    if decimals:
        return json.loads(text, parse_float=Decimal)
    return json.loads(text)


def payload_names(venue: str) -> list[str]:
    return sorted(p.name for p in (VENUE_FIXTURES / venue).glob("*.json"))


@pytest.fixture
def venue_payload():
    return load_payload
