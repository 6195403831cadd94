"""API secrets are encrypted at rest and never shown: raw rows, repr, rotation, wrong keys."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from exchanges.fields import SecretDecryptionError, decrypt_secret, encrypt_secret
from exchanges.models import ExchangeAccount, mask
from exchanges.services import exchange_account_secrets_rotate
from exchanges.venues.base import Credentials
from tests.factories import ExchangeAccountFactory, ExchangeFactory

API_KEY = "5b1c7d52-0e1a-4c36-9d3b-clearkey0001"
SECRET = "ClearTextSecret-9f8e7d6c5b4a"
PASSPHRASE = "clear-passphrase-42"


def raw_row(account_id: int) -> tuple[str, str, str]:
    table = ExchangeAccount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT api_key, secret, passphrase FROM {table} WHERE id = %s", [account_id]
        )
        return cursor.fetchone()


@pytest.fixture
def okx_account(db, secrets_key):
    return ExchangeAccountFactory(
        exchange=ExchangeFactory(venue="okx"),
        api_key=API_KEY,
        secret=SECRET,
        passphrase=PASSPHRASE,
    )


def test_raw_row_holds_no_clear_text(okx_account):
    row = raw_row(okx_account.pk)
    for stored, clear in zip(row, (API_KEY, SECRET, PASSPHRASE), strict=True):
        assert clear not in stored
        assert stored.startswith("gAAAAA")  # a Fernet token: version byte 0x80, base64
        assert decrypt_secret(stored) == clear
    everything = " ".join(row)
    for fragment in ("ClearText", "clear-pass", "clearkey", "9f8e7d6c"):
        assert fragment not in everything


def test_credentials_read_back(okx_account):
    account = ExchangeAccount.objects.get(pk=okx_account.pk)
    credentials = account.credentials()
    assert (credentials.api_key, credentials.secret, credentials.passphrase) == (
        API_KEY,
        SECRET,
        PASSPHRASE,
    )


def test_repr_and_str_hide_the_secrets(okx_account):
    account = ExchangeAccount.objects.get(pk=okx_account.pk)
    for text in (repr(account), str(account)):
        assert SECRET not in text
        assert PASSPHRASE not in text
        assert API_KEY not in text
    assert repr(account).endswith("key=••••0001>")
    # The adapters' Credentials (exchanges/venues/base.py) show the key, never secret/passphrase.
    assert repr(account.credentials()) == f"Credentials(api_key='{API_KEY}')"


def test_empty_passphrase_is_stored_empty(account):
    assert raw_row(account.pk)[2] == ""
    assert ExchangeAccount.objects.get(pk=account.pk).passphrase == ""


def test_tokens_differ_for_the_same_secret(secrets_key):
    assert encrypt_secret("same") != encrypt_secret("same")


def test_secret_columns_cannot_be_filtered(account):
    with pytest.raises(FieldError, match="Unsupported lookup 'exact'"):
        ExchangeAccount.objects.filter(secret="TopSecretValue-0123456789").count()
    assert ExchangeAccount.objects.filter(secret__isnull=False).count() == 1


def test_rotation(db, settings):
    key_a = Fernet.generate_key().decode()
    key_b = Fernet.generate_key().decode()
    settings.GATEWAY_SECRETS_KEYS = [key_a]
    account = ExchangeAccountFactory(api_key=API_KEY, secret=SECRET, passphrase=PASSPHRASE)
    before = raw_row(account.pk)
    assert Fernet(key_a).decrypt(before[1].encode()).decode() == SECRET

    settings.GATEWAY_SECRETS_KEYS = [key_b, key_a]
    assert ExchangeAccount.objects.get(pk=account.pk).secret == SECRET  # old key still decrypts

    assert exchange_account_secrets_rotate() == 1
    after = raw_row(account.pk)
    for token, clear in zip(after, (API_KEY, SECRET, PASSPHRASE), strict=True):
        assert Fernet(key_b).decrypt(token.encode()).decode() == clear
    assert after != before

    settings.GATEWAY_SECRETS_KEYS = [key_b]  # key A retired
    assert ExchangeAccount.objects.get(pk=account.pk).credentials().passphrase == PASSPHRASE


def test_missing_key_is_a_clear_error(db, settings):
    settings.GATEWAY_SECRETS_KEYS = [Fernet.generate_key().decode()]
    account = ExchangeAccountFactory(secret=SECRET)
    settings.GATEWAY_SECRETS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretDecryptionError, match="cannot be decrypted with any key"):
        ExchangeAccount.objects.get(pk=account.pk)


def test_bad_key_setting(settings):
    settings.GATEWAY_SECRETS_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        encrypt_secret("x")


@pytest.mark.parametrize(
    ("value", "shown"),
    [("", ""), ("short", "set"), ("123456789012", "set"), ("SimBybitDemoKey001", "••••y001")],
)
def test_mask(value, shown):
    assert mask(value) == shown


def test_dumpdata_and_loaddata_keep_secrets_encrypted(okx_account, tmp_path):
    dump = tmp_path / "accounts.json"
    call_command("dumpdata", "exchanges.exchangeaccount", output=str(dump))
    text = dump.read_text()
    for clear in (API_KEY, SECRET, PASSPHRASE):
        assert clear not in text
    assert text.count('"fernet:gAAAAA') == 3

    ExchangeAccount.objects.all().delete()
    call_command("loaddata", str(dump), verbosity=0)
    account = ExchangeAccount.objects.get()
    assert account.credentials() == Credentials(API_KEY, SECRET, PASSPHRASE)
    for stored, clear in zip(raw_row(account.pk), (API_KEY, SECRET, PASSPHRASE), strict=True):
        assert decrypt_secret(stored) == clear
