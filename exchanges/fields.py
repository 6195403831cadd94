"""The encrypted field of API secrets.

`EncryptedTextField` keeps API secrets encrypted at rest with `cryptography`'s MultiFernet under
`settings.GATEWAY_SECRETS_KEYS`: the first key encrypts, every key decrypts, so a key is rotated
by putting a new one first and re-saving the rows (`exchanges.services.exchange_account_secrets_rotate`).
The database column only ever holds a Fernet token; the clear text lives on the model instance
after loading, for the venue adapter to sign with. `dumpdata` writes `fernet:<token>` and
`loaddata` reads it back, so a fixture or backup made with them holds no clear text either.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

SERIALIZED_PREFIX = "fernet:"


class SecretDecryptionError(ImproperlyConfigured):
    """A stored secret cannot be decrypted with any key in GATEWAY_SECRETS_KEYS."""


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("GATEWAY_SECRETS_KEYS is empty: no key to encrypt secrets")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "GATEWAY_SECRETS_KEYS holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes, see cryptography.fernet.Fernet.generate_key)"
        ) from exc


def secrets_cipher(keys: Sequence[str] | None = None) -> MultiFernet:
    """The MultiFernet of `keys` (default: settings.GATEWAY_SECRETS_KEYS, first one encrypts)."""
    if keys is None:
        keys = settings.GATEWAY_SECRETS_KEYS
    return _multi_fernet(tuple(k.strip() for k in keys if k.strip()))


def encrypt_secret(clear: str) -> str:
    return secrets_cipher().encrypt(clear.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return secrets_cipher().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretDecryptionError(
            "a stored secret cannot be decrypted with any key in GATEWAY_SECRETS_KEYS; "
            "the key that encrypted it is missing from the list"
        ) from exc


class EncryptedTextField(models.TextField):
    """Text encrypted at rest: the column holds a Fernet token, Python sees the clear text.

    The empty string is stored as is (it says only that no value was given). Tokens are random
    (Fernet adds an IV and a timestamp), so the column cannot be filtered on: every lookup but
    `isnull` is refused rather than silently matching nothing.
    """

    description = "Text encrypted with MultiFernet under GATEWAY_SECRETS_KEYS"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_secret(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_secret(value)

    def value_to_string(self, obj: models.Model) -> str:
        """Serialized form (`dumpdata`): the token behind `SERIALIZED_PREFIX`, never clear text."""
        value = self.value_from_object(obj)
        return SERIALIZED_PREFIX + encrypt_secret(value) if value else ""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(SERIALIZED_PREFIX):
            return decrypt_secret(value.removeprefix(SERIALIZED_PREFIX))
        return super().to_python(value)

    def get_lookup(self, lookup_name: str):
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)
