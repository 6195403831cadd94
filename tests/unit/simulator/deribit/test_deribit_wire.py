"""Pure parts of the Deribit face: number encoding, signatures, error table, channel names,
book level bookkeeping."""

from decimal import Decimal

import pytest

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.deribit.auth import client_signature, http_request_data
from exchanges.simulator.deribit.books import _level_changes
from exchanges.simulator.deribit.errors import REJECT_ERRORS, RpcError
from exchanges.simulator.deribit.private import _private_payloads
from exchanges.simulator.deribit.wire import dumps, loads
from exchanges.simulator.engine.records import RejectReason
from exchanges.simulator.market.generator import build_engine
from tests.plugins.venues import load_payload

D = Decimal


def test_decimals_are_json_numbers_with_their_exact_digits():
    raw = dumps(
        {
            "price": D("92283.5"),
            "fee": D("1.6E-7"),
            "amount": D("10"),
            "long": D("0.1000000000000000055511151231257827"),
            "negative": D("-0.00000001"),
        }
    )
    assert raw == (
        b'{"price":92283.5,"fee":0.00000016,"amount":10,'
        b'"long":0.1000000000000000055511151231257827,"negative":-0.00000001}'
    )
    assert loads(raw) == {
        "price": D("92283.5"),
        "fee": D("0.00000016"),
        "amount": 10,
        "long": D("0.1000000000000000055511151231257827"),
        "negative": D("-0.00000001"),
    }


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


def test_every_engine_rejection_has_a_deribit_error():
    assert set(REJECT_ERRORS) == set(RejectReason)
    assert REJECT_ERRORS[RejectReason.INSUFFICIENT_FUNDS] == (10009, "not_enough_funds")
    assert REJECT_ERRORS[RejectReason.POST_ONLY_WOULD_CROSS] == (11054, "post_only_reject")
    assert REJECT_ERRORS[RejectReason.ORDER_NOT_FOUND] == (10004, "order_not_found")
    assert REJECT_ERRORS[RejectReason.ORDER_CLOSED] == (11044, "not_open_order")


def test_error_body_omits_absent_data():
    assert RpcError(10028, "too_many_requests").body() == {
        "code": 10028,
        "message": "too_many_requests",
    }
    assert RpcError(13009, "unauthorized", {"reason": "x"}).body() == {
        "code": 13009,
        "message": "unauthorized",
        "data": {"reason": "x"},
    }


def test_level_changes_name_new_change_and_delete():
    levels = {D("100"): D("10"), D("99.5"): D("20")}
    entries = _level_changes(
        levels, [(D("100"), D("0")), (D("99.5"), D("30")), (D("99"), D("5")), (D("98"), D("0"))]
    )
    assert entries == [
        ["delete", D("100"), D("0")],
        ["change", D("99.5"), D("30")],
        ["new", D("99"), D("5")],
    ]
    assert levels == {D("99.5"): D("30"), D("99"): D("5")}


@pytest.fixture(scope="module")
def face():
    from exchanges.simulator.deribit.face import DeribitFace

    return DeribitFace(build_engine(seed=3), Faults())


@pytest.mark.parametrize(
    ("name", "family", "interval", "instrument", "kind", "currency"),
    [
        ("book.BTC-PERPETUAL.100ms", "book", "100ms", "BTC-PERPETUAL", None, None),
        ("book.BTC-PERPETUAL.raw", "book", "raw", "BTC-PERPETUAL", None, None),
        ("book.ETH-PERPETUAL.none.10.100ms", "book_grouped", "100ms", "ETH-PERPETUAL", None, None),
        ("ticker.BTC-PERPETUAL.raw", "ticker", "raw", "BTC-PERPETUAL", None, None),
        ("trades.future.BTC.100ms", "trades", "100ms", None, "future", "BTC"),
        ("user.orders.BTC-PERPETUAL.raw", "user.orders", "raw", "BTC-PERPETUAL", None, None),
        ("user.orders.future.any.100ms", "user.orders", "100ms", None, "future", "any"),
        ("user.trades.option.BTC.raw", "user.trades", "raw", None, "option", "BTC"),
        ("user.changes.BTC-PERPETUAL.100ms", "user.changes", "100ms", "BTC-PERPETUAL", None, None),
        ("user.portfolio.btc", "user.portfolio", "raw", None, None, "BTC"),
        ("user.portfolio.any", "user.portfolio", "raw", None, None, "any"),
    ],
)
def test_channel_names_parse(face, name, family, interval, instrument, kind, currency):
    channel = face._parse_channel(name)
    assert (
        channel.family,
        channel.interval,
        channel.instrument,
        channel.kind,
        channel.currency,
    ) == (
        family,
        interval,
        instrument,
        kind,
        currency,
    )


@pytest.mark.parametrize(
    "name",
    [
        "book.NOPE-PERPETUAL.100ms",
        "book.BTC-PERPETUAL.5ms",
        "ticker.BTC-PERPETUAL.agg2",
        "user.orders.BTC-PERPETUAL",
        "user.portfolio.doge",
        "trades.future.DOGE.raw",
        "quote.BTC-PERPETUAL",
    ],
)
def test_unknown_channels_are_refused(face, name):
    assert face._parse_channel(name) is None


def test_user_changes_payload_groups_per_instrument(face):
    channel = face._parse_channel("user.changes.future.BTC.raw")
    order = {"order_id": "1", "instrument_name": "BTC-PERPETUAL", "order_state": "open"}
    later = {"order_id": "1", "instrument_name": "BTC-PERPETUAL", "order_state": "filled"}
    trade = {"trade_id": "7", "instrument_name": "BTC-PERPETUAL"}
    position = {"instrument_name": "BTC-PERPETUAL", "size": D("10")}
    payloads = _private_payloads(
        channel,
        [("order", order), ("trade", trade), ("order", later), ("position", position)],
        True,
    )
    assert payloads == [
        {
            "trades": [trade],
            "positions": [position],
            "orders": [later],
            "instrument_name": "BTC-PERPETUAL",
        }
    ]
