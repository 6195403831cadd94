"""Client order ids: valid on OKX (<=32 alphanumerics), Bybit (<=36) and Deribit (<=64),
unique, and ordered by creation time."""

import re

from orders.ids import is_valid_client_order_id, new_client_order_id


def test_shape_at_a_known_time():
    cid = new_client_order_id(now_ms=1_764_072_000_000)
    assert re.fullmatch(r"gw19abae28a00[0-9a-f]{16}", cid)
    assert len(cid) == 29


def test_valid_on_every_venue():
    for _ in range(200):
        cid = new_client_order_id()
        assert len(cid) <= 32
        assert cid.isascii() and cid.isalnum()
        assert is_valid_client_order_id(cid)


def test_unique():
    ids = {new_client_order_id(now_ms=1) for _ in range(10_000)}
    assert len(ids) == 10_000


def test_sorted_by_time():
    earlier = new_client_order_id(now_ms=1_764_072_000_000)
    later = new_client_order_id(now_ms=1_764_072_000_001)
    assert earlier < later
    assert new_client_order_id(now_ms=0xF_FFFF_FFFF) < new_client_order_id(now_ms=0x10_0000_0000)


def test_validation():
    assert is_valid_client_order_id("A" * 32)
    assert not is_valid_client_order_id("A" * 33)
    assert not is_valid_client_order_id("")
    assert not is_valid_client_order_id("gw-123")
    assert not is_valid_client_order_id("gw_123")
    assert not is_valid_client_order_id("gwé123")
