"""Deribit signing against the documentation's vector and an independently built example."""

import hashlib
import hmac

from exchanges.venues.base import Credentials
from exchanges.venues.deribit import auth
from tests.plugins.venues import load_payload

VECTOR = load_payload("deribit", "signing_example_ws_auth")
DOC_REQUEST = load_payload("deribit", "ws_public_auth_client_signature_request_docs")


def test_client_signature_reproduces_the_documented_vector():
    signature = auth.sign(
        VECTOR["client_secret"], VECTOR["timestamp"], VECTOR["nonce"], VECTOR["data"]
    )
    assert signature == VECTOR["expected_signature"]
    assert signature == "e20c9cd5639d41f8bbc88f4d699c4baf94a4f0ee320e9a116b72743c449eb994"


def test_one_altered_byte_changes_the_signature():
    assert auth.sign("ABCE", 1554883365000, "fdbmmz79", "") != VECTOR["expected_signature"]
    assert auth.sign("ABCD", 1554883365000, "fdbmmz7a", "") != VECTOR["expected_signature"]
    assert auth.sign("ABCD", 1554883365001, "fdbmmz79", "") != VECTOR["expected_signature"]


def test_client_signature_params_match_the_documented_request():
    creds = Credentials(api_key=VECTOR["client_id"], secret=VECTOR["client_secret"])
    params = auth.client_signature_params(
        creds, timestamp_ms=VECTOR["timestamp"], nonce=VECTOR["nonce"], data=""
    )
    documented = DOC_REQUEST["params"]
    assert params == {
        "grant_type": "client_signature",
        "client_id": documented["client_id"],
        "timestamp": int(documented["timestamp"]),
        "signature": documented["signature"],
        "nonce": documented["nonce"],
        "data": documented["data"],
    }


def test_http_authorization_header_follows_the_documented_recipe():
    creds = Credentials(api_key="AMANDA", secret="AMANDASECRECT")
    uri = "/api/v2/private/get_account_summaries?extended=true"
    header = auth.http_authorization(
        creds, method="get", uri=uri, body="", timestamp_ms=1576074319000, nonce="1iqt2wls"
    )
    # Independently: StringToSign = ts \n nonce \n (METHOD \n URI \n body \n)
    string_to_sign = "1576074319000\n1iqt2wls\nGET\n" + uri + "\n\n"
    expected = hmac.new(b"AMANDASECRECT", string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert header == (f"deri-hmac-sha256 id=AMANDA,ts=1576074319000,sig={expected},nonce=1iqt2wls")
    altered = auth.http_authorization(
        creds, method="GET", uri=uri + "x", body="", timestamp_ms=1576074319000, nonce="1iqt2wls"
    )
    assert altered != header


def test_http_signature_covers_the_body():
    creds = Credentials(api_key="k", secret="s")
    body = '{"jsonrpc":"2.0","id":1,"method":"private/buy","params":{"amount":10}}'
    header = auth.http_authorization(
        creds, method="POST", uri="/api/v2/private/buy", body=body, timestamp_ms=1, nonce="n"
    )
    string_to_sign = "1\nn\nPOST\n/api/v2/private/buy\n" + body + "\n"
    expected = hmac.new(b"s", string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert header.endswith(f"sig={expected},nonce=n")


def test_token_expiry_margin():
    token = auth.Token.from_result(
        {"access_token": "a", "refresh_token": "r", "expires_in": 900, "scope": "connection"},
        now=100.0,
    )
    assert token.expires_at == 1000.0
    assert token.scope == "connection"
    assert not token.expires_within(60, now=900.0)
    assert token.expires_within(60, now=940.0)


def test_refresh_params():
    assert auth.refresh_params("rt") == {"grant_type": "refresh_token", "refresh_token": "rt"}
