"""Access to recorded venue payloads: ../shared/fixtures/venues (the real ones, with SOURCES.md)
and tests/fixtures/venues (more recorded from the venues' official documentation)."""

import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_VENUES = Path(os.environ.get("GATEWAY_SHARED_DIR", REPO_ROOT.parent / "shared")) / (
    "fixtures/venues"
)
LOCAL_VENUES = REPO_ROOT / "tests" / "fixtures" / "venues"


def payload_path(venue: str, name: str) -> Path:
    """The file `name` (with or without .json) of `venue`, shared fixtures first."""
    filename = name if name.endswith((".json", ".jsonl")) else f"{name}.json"
    for root in (SHARED_VENUES, LOCAL_VENUES):
        path = root / venue / filename
        if path.exists():
            return path
    raise FileNotFoundError(
        f"no recorded payload {venue}/{filename} in {SHARED_VENUES} or {LOCAL_VENUES}"
    )


def load_raw(venue: str, name: str) -> str:
    return payload_path(venue, name).read_text()


def load_payload(venue: str, name: str, *, decimals: bool = False):
    """The payload as JSON; with `decimals=True` JSON numbers become Decimal (Deribit sends numbers)."""
    text = load_raw(venue, name)
    if decimals:
        return json.loads(text, parse_float=Decimal)
    return json.loads(text)


def payload_names(venue: str) -> list[str]:
    names = set()
    for root in (SHARED_VENUES, LOCAL_VENUES):
        if (root / venue).is_dir():
            names.update(p.name for p in (root / venue).glob("*.json"))
    return sorted(names)


@pytest.fixture
def venue_payload():
    return load_payload
