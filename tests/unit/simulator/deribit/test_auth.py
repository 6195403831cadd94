"""Deribit signatures against the documentation vector (deribit/auth.py)."""

from __future__ import annotations

from exchanges.simulator.deribit.auth import client_signature, http_request_data
from tests.plugins.venues import load_payload


def test_signature_matches_the_documentation_vector():
    vector = load_payload("deribit", "signing_example_ws_auth")
    signature = client_signature(
        vector["client_secret"], vector["timestamp"], vector["nonce"], vector["data"]
    )
    assert signature == vector["expected_signature"]
    request = load_payload("deribit", "ws_public_auth_client_signature_request_docs")
    assert request["params"]["signature"] == signature


def test_one_altered_byte_changes_the_signature():
    vector = load_payload("deribit", "signing_example_ws_auth")
    altered = client_signature("ABCE", vector["timestamp"], vector["nonce"], vector["data"])
    assert altered != vector["expected_signature"]


def test_http_request_data_is_method_uri_body_each_closed_by_a_newline():
    assert (
        http_request_data("get", "/api/v2/private/get_account_summary?currency=BTC", "")
        == "GET\n/api/v2/private/get_account_summary?currency=BTC\n\n"
    )
    assert http_request_data("POST", "/api/v2/private/buy", '{"a":1}') == (
        'POST\n/api/v2/private/buy\n{"a":1}\n'
    )
