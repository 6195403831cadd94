"""Bybit signing against the recorded vectors (tests/fixtures/venues/bybit/signing_example_*)."""

import hashlib
import hmac
import time

import pytest

from exchanges.venues.base import Credentials
from exchanges.venues.bybit.auth import BybitSigner, rest_prehash, sign, ws_prehash
from exchanges.venues.clock import Clock
from tests.plugins.venues import load_payload
from tests.unit.venues.helpers import StoppedClock

REST_VECTORS = load_payload("bybit", "signing_example_rest")


@pytest.mark.parametrize("vector", REST_VECTORS, ids=[v["case"] for v in REST_VECTORS])
def test_rest_signature_matches_vector(vector):
    prehash = rest_prehash(
        vector["timestamp"], vector["api_key"], vector["recv_window"], vector["payload"]
    )
    assert prehash == vector["prehash"]
    assert sign(vector["secret"], prehash) == vector["expected_signature"]


@pytest.mark.parametrize("vector", REST_VECTORS, ids=[v["case"] for v in REST_VECTORS])
def test_rest_headers_match_vector(vector):
    signer = BybitSigner(
        Credentials(api_key=vector["api_key"], secret=vector["secret"]),
        StoppedClock(int(vector["timestamp"]) * 1_000_000),
        recv_window=int(vector["recv_window"]),
    )
    if vector["case"] == "GET query":
        headers = signer.rest_headers("GET", "/v5/order/realtime?" + vector["payload"])
    else:
        headers = signer.rest_headers("POST", "/v5/order/create", vector["payload"])
    assert headers == {
        "X-BAPI-API-KEY": "test_api_key",
        "X-BAPI-TIMESTAMP": "1700000000000",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": vector["expected_signature"],
    }


@pytest.mark.parametrize("vector", REST_VECTORS, ids=[v["case"] for v in REST_VECTORS])
def test_one_altered_byte_changes_the_signature(vector):
    payload = vector["payload"]
    altered = payload[:-1] + chr(ord(payload[-1]) ^ 1)
    prehash = rest_prehash(vector["timestamp"], vector["api_key"], vector["recv_window"], altered)
    assert sign(vector["secret"], prehash) != vector["expected_signature"]
    assert sign(vector["secret"] + "x", vector["prehash"]) != vector["expected_signature"]


def test_docs_prehash_layout():
    for example in load_payload("bybit", "signing_example_docs_prehash"):
        payload = example.get("queryString") or example["jsonBodyString"]
        assert (
            rest_prehash(example["timestamp"], example["api_key"], example["recv_window"], payload)
            == example["prehash"]
        )


def test_ws_login_matches_vector():
    vector = load_payload("bybit", "signing_example_ws_auth")
    assert ws_prehash(vector["expires"]) == vector["prehash"]
    signer = BybitSigner(
        Credentials(api_key=vector["api_key"], secret=vector["secret"]),
        StoppedClock((vector["expires"] - 10_000) * 1_000_000),
        login_valid_for_ms=10_000,
    )
    assert signer.ws_login() == {
        "op": "auth",
        "args": ["test_api_key", 1700000000000, vector["expected_signature"]],
    }
    assert sign(vector["secret"], ws_prehash(vector["expires"] + 1)) != vector["expected_signature"]


def test_signing_uses_the_clock_offset():
    offset_ns = -7_000 * 1_000_000  # the venue's clock is 7 s behind ours
    signer = BybitSigner(Credentials(api_key="k", secret="s"), Clock(offset_ns))
    before = time.time_ns() // 1_000_000 - 7_000
    headers = signer.rest_headers("GET", "/v5/position/list?category=linear")
    after = time.time_ns() // 1_000_000 - 7_000
    ts = int(headers["X-BAPI-TIMESTAMP"])
    assert before <= ts <= after
    expected = hmac.new(b"s", f"{ts}k5000category=linear".encode(), hashlib.sha256).hexdigest()
    assert headers["X-BAPI-SIGN"] == expected


def test_ws_login_expiry_is_in_the_future_of_the_corrected_clock():
    signer = BybitSigner(
        Credentials(api_key="k", secret="s"), Clock(5_000 * 1_000_000), login_valid_for_ms=10_000
    )
    request = signer.ws_login()
    now_venue_ms = time.time_ns() // 1_000_000 + 5_000
    assert now_venue_ms + 9_000 <= request["args"][1] <= now_venue_ms + 10_000
    assert (
        request["args"][2]
        == hmac.new(b"s", f"GET/realtime{request['args'][1]}".encode(), hashlib.sha256).hexdigest()
    )
