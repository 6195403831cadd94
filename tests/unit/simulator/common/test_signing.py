"""The HMAC-SHA256 digest every face signs with (common/signing.py)."""

from __future__ import annotations

from exchanges.simulator.common.signing import hmac_sha256


def test_hmac_sha256_matches_rfc_4231_test_case_2():
    assert hmac_sha256("Jefe", "what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
