"""assert_same_shape: keys, nesting and JSON kinds, with the path of every difference."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.plugins.venues import payload_path
from tests.support.shape import assert_same_shape, json_kind, shape_differences


def test_identical_shapes_pass_whatever_the_values():
    expected = {"arg": {"channel": "books"}, "data": [{"asks": [["1", "2", "0", "3"]], "ts": "1"}]}
    actual = {
        "arg": {"channel": "x"},
        "data": [{"asks": [], "ts": "9"}, {"asks": [["5", "6", "0", "1"]], "ts": "2"}],
    }
    assert_same_shape(actual, expected)


def test_kinds_are_json_kinds():
    assert [json_kind(v) for v in (None, True, 1, 1.5, Decimal("2"), "x", [], {})] == [
        "null",
        "boolean",
        "number",
        "number",
        "number",
        "string",
        "list",
        "object",
    ]
    with pytest.raises(TypeError):
        json_kind(object())


def test_every_difference_is_reported_with_its_path():
    expected = {"code": "0", "data": [{"px": "1", "sz": "2", "fee": None, "ok": True}]}
    actual = {"code": 0, "data": [{"px": "1", "fee": "0.1", "ok": "true", "extra": 1}], "more": []}
    assert shape_differences(actual, expected) == [
        "<root>: keys the venue does not send ['more']",
        "code: number 0 where the venue sends string",
        "data[0]: missing keys ['sz']",
        "data[0]: keys the venue does not send ['extra']",
        "data[0].fee: string '0.1' where the venue sends null",
        "data[0].ok: string 'true' where the venue sends boolean",
    ]
    with pytest.raises(AssertionError, match=r"data\[0\]: missing keys \['sz'\]"):
        assert_same_shape(actual, expected)


def test_list_elements_follow_the_first_expected_element_and_empty_expected_accepts_any():
    assert shape_differences([["a", "b"], ["c", 3]], [["x", "y"]]) == [
        "[1][1]: number 3 where the venue sends string"
    ]
    assert shape_differences({"list": [1, {"a": 1}]}, {"list": []}) == []
    assert shape_differences([], [{"a": 1}]) == []


def test_mixed_kind_lists_are_tuples_compared_by_position():
    expected = {"bids": [["new", 100.5, 10]]}
    assert shape_differences({"bids": [["change", 99, 20], ["delete", 98, 0]]}, expected) == []
    assert shape_differences({"bids": [["new", 99]]}, expected) == [
        "bids[0]: 2 items where the venue sends 3"
    ]
    assert shape_differences({"bids": [["new", "99", 1]]}, expected) == [
        "bids[0][1]: string '99' where the venue sends number"
    ]


def test_a_recorded_payload_has_its_own_shape():
    import json

    payload = json.loads(payload_path("okx", "ws_books_snapshot").read_text())
    assert_same_shape(payload, payload)
    broken = json.loads(payload_path("okx", "ws_books_snapshot").read_text())
    broken["data"][0]["seqId"] = str(broken["data"][0]["seqId"])
    with pytest.raises(AssertionError, match=r"data\[0\]\.seqId: string"):
        assert_same_shape(broken, payload)
