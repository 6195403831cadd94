"""Shape comparison of JSON payloads (test support): the simulator's messages against recorded
venue payloads.

`assert_same_shape(actual, expected)` passes when both have the same keys, the same nesting and
the same JSON value kinds (string, number, boolean, null, list, object) everywhere; values
themselves are not compared. A list in `expected` whose items are all of one kind gives the
shape of every item of the list in `actual` by its first item (an empty `expected` list accepts
any list); a list of mixed kinds is a tuple (Deribit's `["new", 100.5, 10]`) and is compared
position by position, length included. The failure
message names the path (`data[0].bids[1][0]`) and both kinds, so a conformance test says which
field of which message is off.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def json_kind(value: Any) -> str:
    """The JSON kind of a decoded value: object, list, string, number, boolean or null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "list"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_differences(actual: Any, expected: Any, path: str = "") -> list[str]:
    """Every place where `actual` differs in shape from `expected` (empty when they match)."""
    where = path or "<root>"
    actual_kind, expected_kind = json_kind(actual), json_kind(expected)
    if actual_kind != expected_kind:
        return [f"{where}: {actual_kind} {actual!r:.60} where the venue sends {expected_kind}"]
    problems: list[str] = []
    if expected_kind == "object":
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        if missing:
            problems.append(f"{where}: missing keys {missing}")
        if extra:
            problems.append(f"{where}: keys the venue does not send {extra}")
        for key in expected:
            if key in actual:
                problems += shape_differences(
                    actual[key], expected[key], f"{path}.{key}" if path else key
                )
    elif expected_kind == "list" and expected:
        if len({json_kind(item) for item in expected}) > 1:
            if len(actual) != len(expected):
                return [f"{where}: {len(actual)} items where the venue sends {len(expected)}"]
            for index, (item, model) in enumerate(zip(actual, expected, strict=True)):
                problems += shape_differences(item, model, f"{path}[{index}]")
        else:
            for index, item in enumerate(actual):
                problems += shape_differences(item, expected[0], f"{path}[{index}]")
    return problems


def assert_same_shape(actual: Any, expected: Any, path: str = "") -> None:
    """Raise AssertionError listing every shape difference between `actual` and `expected`."""
    problems = shape_differences(actual, expected, path)
    if problems:
        raise AssertionError("payload shape differs from the venue's:\n  " + "\n  ".join(problems))
