"""Lists answer `{"results": [...], "next": url or null, "previous": url or null}`, paged by an
opaque cursor over the view's `ordering` (stable under inserts, unlike page numbers).

`page_size` is 1 to 1000 (default 100); a bad `page_size` or `cursor` is a 400 naming it, not
silently the first page.
"""

from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class GatewayCursorPagination(CursorPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = getattr(view, "ordering", "id")
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def get_page_size(self, request) -> int:
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not values[0].isdigit() or not 1 <= int(values[0]) <= 1000:
            raise serializers.ValidationError(
                {self.page_size_query_param: ["A whole number from 1 to 1000, given once."]}
            )
        return int(values[0])

    def decode_cursor(self, request):
        values = request.query_params.getlist(self.cursor_query_param)
        if len(values) > 1:
            raise serializers.ValidationError({self.cursor_query_param: ["Given more than once."]})
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise serializers.ValidationError(
                {self.cursor_query_param: ["Not a cursor this API gave out."]}
            ) from exc

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 1000}
        return parameters
