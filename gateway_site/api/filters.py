"""Query filters that say no: django-filter ignores a filter it cannot read (`?enabled=maybe`
lists everything), which hides a client's bug. Here a filter given twice, empty, or a boolean
other than `true`/`false` is a 400 naming the parameter."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import serializers


class StrictFilterBackend(DjangoFilterBackend):
    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors: dict[str, list[str]] = {}
        for name, declared in filterset.filters.items():
            values = request.query_params.getlist(name)
            if not values:
                continue
            if len(values) > 1:
                errors[name] = ["Given more than once."]
            elif values[0] == "":
                errors[name] = ["Must not be empty."]
            elif isinstance(declared, django_filters.BooleanFilter) and values[0] not in (
                "true",
                "false",
            ):
                errors[name] = ['Must be "true" or "false".']
        if errors:
            raise serializers.ValidationError(errors)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return filterset


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time filter whose value goes to the database in UTC: a valid offset such as
    -23:02 is beyond what PostgreSQL takes as a zone displacement, and a time near the ends of
    the calendar that leaves it when moved to UTC is a 400, not a 500."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError:
                raise serializers.ValidationError(
                    {self.field_name: ["Out of range once converted to UTC."]}
                ) from None
        return super().filter(qs, value)
