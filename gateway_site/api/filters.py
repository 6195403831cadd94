"""Query filters that say no: django-filter ignores a filter it cannot read (`?enabled=maybe`
lists everything), which hides a client's bug. Here a filter given twice, empty, or a boolean
other than `true`/`false` is a 400 naming the parameter."""

from __future__ import annotations

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
