"""OKX signing: the recorded vector (signing_example_rest.json), the WS login recipe, offsets."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from exchanges.venues.base import Credentials
from exchanges.venues.okx.auth import OkxSigner, iso_timestamp, sign
from tests.plugins.venues import load_payload
from tests.unit.venues.helpers import StoppedClock

VECTOR = load_payload("okx", "signing_example_rest")


def vector_credentials() -> Credentials:
    return Credentials(VECTOR["api_key"], VECTOR["secret"], VECTOR["passphrase"])


def ns_of(iso: str) -> int:
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000) * 1_000_000


def test_sign_reproduces_the_recorded_vector():
    prehash = VECTOR["timestamp"] + VECTOR["method"] + VECTOR["request_path"] + VECTOR["body"]
    assert prehash == VECTOR["prehash"]
    assert sign(VECTOR["secret"], prehash) == VECTOR["expected_signature"]


def test_one_altered_byte_changes_the_signature():
    altered = VECTOR["prehash"].replace("balance", "balancf")
    assert sign(VECTOR["secret"], altered) != VECTOR["expected_signature"]
    assert sign(VECTOR["secret"][:-1] + "X", VECTOR["prehash"]) != VECTOR["expected_signature"]


def test_rest_headers_sign_timestamp_method_path_body():
    at = ns_of(VECTOR["timestamp"])
    signer = OkxSigner(vector_credentials(), StoppedClock(at))
    headers = signer.rest_headers("get", VECTOR["request_path"])
    assert headers == {
        "OK-ACCESS-KEY": VECTOR["api_key"],
        "OK-ACCESS-SIGN": VECTOR["expected_signature"],
        "OK-ACCESS-TIMESTAMP": "2020-12-08T09:08:57.715Z",
        "OK-ACCESS-PASSPHRASE": VECTOR["passphrase"],
    }


def test_post_body_is_part_of_the_prehash():
    at = ns_of("2020-12-08T09:08:57.715Z")
    signer = OkxSigner(vector_credentials(), StoppedClock(at))
    body = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"limit","px":"1","sz":"2"}'
    headers = signer.rest_headers("POST", "/api/v5/trade/order", body)
    expected = base64.b64encode(
        hmac.new(
            VECTOR["secret"].encode(),
            f"2020-12-08T09:08:57.715ZPOST/api/v5/trade/order{body}".encode(),
            hashlib.sha256,
        ).digest()
    ).decode()
    assert headers["OK-ACCESS-SIGN"] == expected


def test_clock_offset_moves_the_timestamp():
    at = ns_of("2020-12-08T09:08:57.715Z")
    signer = OkxSigner(vector_credentials(), StoppedClock(at))
    signer.clock.offset_ns = 2_500_000_000
    assert signer.rest_headers("GET", "/x")["OK-ACCESS-TIMESTAMP"] == "2020-12-08T09:09:00.215Z"


def test_iso_timestamp_keeps_milliseconds():
    assert iso_timestamp(ns_of("2020-12-08T09:08:57.005Z") + 999_999) == "2020-12-08T09:08:57.005Z"


def test_ws_login_signs_seconds_get_and_verify_path():
    at = 1_700_000_000_123_456_789
    signer = OkxSigner(vector_credentials(), StoppedClock(at))
    login = signer.ws_login()
    expected = base64.b64encode(
        hmac.new(
            VECTOR["secret"].encode(), b"1700000000GET/users/self/verify", hashlib.sha256
        ).digest()
    ).decode()
    assert login == {
        "op": "login",
        "args": [
            {
                "apiKey": VECTOR["api_key"],
                "passphrase": VECTOR["passphrase"],
                "timestamp": "1700000000",
                "sign": expected,
            }
        ],
    }
