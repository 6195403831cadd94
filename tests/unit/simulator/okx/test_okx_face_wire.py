"""Pure pieces of the OKX face: the signature recipe, the book checksum, the error-code map."""

from decimal import Decimal

import pytest

from exchanges.simulator.common.faults import Faults
from exchanges.simulator.engine.records import RejectReason, SimReject
from exchanges.simulator.instruments import DEFAULT_INSTRUMENTS
from exchanges.simulator.market.generator import build_engine
from exchanges.simulator.okx.auth import sign
from exchanges.simulator.okx.books import book_checksum, checksum_string
from exchanges.simulator.okx.errors import reject_code
from exchanges.simulator.okx.face import OkxFace
from exchanges.simulator.okx.wire import s
from exchanges.venues.base import Venue
from tests.plugins.venues import load_payload

SWAP = next(
    i for i in DEFAULT_INSTRUMENTS if i.venue is Venue.OKX and i.venue_symbol == "BTC-USDT-SWAP"
)
SPOT = next(i for i in DEFAULT_INSTRUMENTS if i.venue is Venue.OKX and i.venue_symbol == "BTC-USDT")


def test_signature_reproduces_the_recorded_vector():
    vector = load_payload("okx", "signing_example_rest")
    prehash = vector["timestamp"] + vector["method"] + vector["request_path"] + vector["body"]
    assert prehash == vector["prehash"]
    assert sign(vector["secret"], prehash) == "PJ61e1nb2F2Qd7D8SPiaIcx2gjdELc+o0ygzre9z33k="


def test_one_altered_byte_changes_the_signature():
    vector = load_payload("okx", "signing_example_rest")
    altered = vector["prehash"].replace("balance", "balancf")
    assert sign(vector["secret"], altered) != vector["expected_signature"]


def test_checksum_reproduces_both_worked_examples_of_the_docs():
    for example in load_payload("okx", "checksum_examples_docs")["examples"]:
        assert checksum_string(example["bids"], example["asks"]) == example["check_string"]
        assert book_checksum(example["bids"], example["asks"]) == example["checksum"]


def test_checksum_string_interleaves_bids_and_asks_like_the_docs_example():
    # OKX docs "Order book channel", checksum example (bids 3366.1/3366, asks 3366.8/3368).
    bids = [["3366.1", "7", "0", "3"], ["3366", "6", "3", "4"]]
    asks = [["3366.8", "9", "10", "3"], ["3368", "8", "3", "4"]]
    assert checksum_string(bids, asks) == "3366.1:7:3366.8:9:3366:6:3368:8"
    assert book_checksum(bids, asks) == -1881014294  # CRC32 2413953002 as signed 32-bit


def test_checksum_of_uneven_sides_appends_the_longer_side_and_stays_positive_when_small():
    bids = [["8476.97", "256"], ["8475.55", "101"]]
    asks = [["8476.98", "415"], ["8477", "7"]]
    assert book_checksum(bids, asks) == 2123921068
    assert checksum_string([["1", "2"]], [["3", "4"], ["5", "6"], ["7", "8"]]) == "1:2:3:4:5:6:7:8"


def test_checksum_uses_only_the_top_25_levels():
    bids = [[str(1000 - i), "1"] for i in range(30)]
    asks = [[str(2000 + i), "1"] for i in range(30)]
    assert checksum_string(bids, asks).count(":") == 25 * 4 - 1
    assert book_checksum(bids, asks) == book_checksum(bids[:25], asks[:25])


def test_amounts_are_plain_decimal_strings():
    assert s(Decimal("100000.0")) == "100000"
    assert s(Decimal("1E+5")) == "100000"
    assert s(Decimal("0.00010")) == "0.0001"
    assert s(Decimal("0")) == "0"
    assert s(None) == ""


@pytest.mark.parametrize(
    ("reason", "message", "operation", "info", "code"),
    [
        (RejectReason.INSUFFICIENT_FUNDS, "", "place", SWAP, "51008"),
        (RejectReason.INSUFFICIENT_FUNDS, "", "amend", SWAP, "51502"),
        (RejectReason.POST_ONLY_WOULD_CROSS, "", "amend", SWAP, "51511"),
        (RejectReason.REDUCE_ONLY, "", "place", SWAP, "51169"),
        (RejectReason.REDUCE_ONLY, "", "place", SPOT, "51139"),
        (RejectReason.INVALID_PRICE, "", "place", SWAP, "51000"),
        (
            RejectReason.INVALID_SIZE,
            "quantity 0.001 is below the minimum 0.01",
            "place",
            SWAP,
            "51020",
        ),
        (
            RejectReason.INVALID_SIZE,
            "quantity 0.015 is not a multiple of the lot 0.01",
            "place",
            SWAP,
            "51121",
        ),
        (RejectReason.INVALID_SIZE, "quantity -1 must be positive", "place", SWAP, "51000"),
        (RejectReason.ORDER_NOT_FOUND, "", "cancel", SWAP, "51400"),
        (RejectReason.ORDER_CLOSED, "", "cancel", SWAP, "51400"),
        (RejectReason.ORDER_NOT_FOUND, "", "amend", SWAP, "51503"),
        (RejectReason.ORDER_CLOSED, "", "amend", SWAP, "51503"),
        (RejectReason.ORDER_NOT_FOUND, "", "query", SWAP, "51603"),
        (RejectReason.DUPLICATE_CLIENT_ORDER_ID, "", "place", SWAP, "51016"),
        (RejectReason.UNKNOWN_INSTRUMENT, "", "place", None, "51001"),
        (RejectReason.NO_LIQUIDITY, "", "place", SWAP, "51109"),
        (RejectReason.FOK_NOT_FILLABLE, "", "place", SWAP, "51000"),
    ],
)
def test_every_engine_rejection_has_an_okx_code(reason, message, operation, info, code):
    assert reject_code(SimReject(reason, message), operation, info)[0] == code


def test_insufficient_funds_names_the_currency_like_okx():
    assert reject_code(SimReject(RejectReason.INSUFFICIENT_FUNDS), "place", SPOT) == (
        "51008",
        "Order failed. Insufficient USDT balance in account",
    )
    assert reject_code(SimReject(RejectReason.INSUFFICIENT_FUNDS), "place", SWAP) == (
        "51008",
        "Order failed. Insufficient USDT margin in account",
    )


def test_configure_switches_book_mode_and_refuses_unknown_settings():
    face = OkxFace(build_engine(seed=1), Faults())
    assert face.configure({})["book_mode"] == "current"
    assert face.configure({"book_mode": "checksum"})["book_mode"] == "checksum"
    assert face.configure({"book_mode": "no_snapshot", "ws_idle_timeout_s": 0.5}) == {
        "book_mode": "no_snapshot",
        "ws_idle_timeout_s": 0.5,
        "book_interval_ms": 100,
        "tbt_interval_ms": 10,
        "rate_limits": True,
        "cancel_all_after_scale": 1.0,
        "book_keepalive_s": 60.0,
    }
    with pytest.raises(ValueError, match="book_mode"):
        face.configure({"book_mode": "bogus"})
    with pytest.raises(ValueError, match="unknown"):
        face.configure({"colour": "red"})
    with pytest.raises(ValueError, match="positive"):
        face.configure({"ws_idle_timeout_s": 0})


def test_urls_are_the_real_paths_on_the_given_port():
    face = OkxFace(build_engine(seed=1), Faults())
    assert face.urls("127.0.0.1", 8802) == {
        "rest": "http://127.0.0.1:8802",
        "ws_public": "ws://127.0.0.1:8802/ws/v5/public",
        "ws_private": "ws://127.0.0.1:8802/ws/v5/private",
    }
