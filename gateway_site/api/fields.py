"""Decimal fields that take and give strings only: a JSON number is a binary float on many
clients, and a price must not pass through one."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

MONEY_DIGITS = 38
MONEY_PLACES = 18


class DecimalString(serializers.DecimalField):
    default_error_messages = {
        "not_a_string": 'Send decimals as strings, e.g. "0.1", not JSON numbers.',
        "not_finite": "A finite number is required.",
    }

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_digits", MONEY_DIGITS)
        kwargs.setdefault("decimal_places", MONEY_PLACES)
        kwargs["coerce_to_string"] = True
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if not isinstance(data, str):
            self.fail("not_a_string")
        text = data.strip()
        if text.lower().lstrip("+-") in {"nan", "snan", "inf", "infinity"}:
            self.fail("not_finite")
        return super().to_internal_value(text)


class _Strict:
    """Takes only the JSON type the schema names: DRF would turn 0 into "0", "5" into 5 and
    "yes" into True, and a client that sends the wrong type has a bug worth hearing about."""

    json_types: tuple[type, ...] = ()
    type_name = ""

    def to_internal_value(self, data):
        if (isinstance(data, bool) and bool not in self.json_types) or not isinstance(
            data, self.json_types
        ):
            raise serializers.ValidationError(f"Must be a JSON {self.type_name}.", code="type")
        return super().to_internal_value(data)


class Text(_Strict, serializers.CharField):
    json_types, type_name = (str,), "string"


class Url(_Strict, serializers.URLField):
    json_types, type_name = (str,), "string"


class Choice(_Strict, serializers.ChoiceField):
    json_types, type_name = (str,), "string"


class Flag(_Strict, serializers.BooleanField):
    json_types, type_name = (bool,), "boolean (true or false)"


class Integer(_Strict, serializers.IntegerField):
    json_types, type_name = (int,), "integer"


class PrimaryKey(_Strict, serializers.PrimaryKeyRelatedField):
    json_types, type_name = (int,), "integer (an id)"
