"""The request-signature digest all three venues build on."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256(secret: str, message: str) -> bytes:
    """HMAC-SHA256 of `message` keyed by `secret` (both UTF-8): the digest OKX signs in Base64
    ("REST Authentication"), Bybit ("Authentication") and Deribit ("Deribit signature
    credentials") in lowercase hex."""
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
