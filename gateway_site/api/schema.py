"""The OpenAPI schema says what errors each operation can answer, in the one error format.

Every operation may answer 401 (no or bad credentials), 403, 405, 406, 429 (throttled) and 500;
operations with a body add 400 and 415; operations on one object add 404; actions that call a
venue add the venue statuses (named in the view's `venue_actions`).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: `validation_error`, ...")
    message = serializers.CharField()
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each invalid input field with its reasons; empty when none is at fault.",
    )
    venue = serializers.CharField(required=False, help_text="Venue errors: which venue.")
    venue_code = serializers.CharField(required=False, help_text="Venue errors: its own code.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


ALWAYS = {
    "401": "Not authenticated, or the credentials are invalid.",
    "403": "Authenticated, but not allowed to do this.",
    "405": "This method is not allowed here.",
    "406": "No acceptable response format.",
    "429": "Throttled: too many requests; see Retry-After.",
    "500": "The server failed; the error is logged.",
}
WITH_BODY = {
    "400": "Invalid input: `fields` names each field at fault.",
    "415": "Unsupported media type: send application/json.",
}
ONE_OBJECT = {"404": "No such object, or not visible to you."}
VENUE_CALL = {
    "409": "The venue refused a duplicate.",
    "422": "The venue refused: e.g. insufficient funds.",
    "502": "The venue answered with an error (its code is in venue_code).",
    "503": "The venue is unavailable or rate limits us.",
    "504": "The venue did not answer in time.",
}


class GatewaySchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            errors |= WITH_BODY
        if "{" in self.path:
            errors |= ONE_OBJECT
        if self.method == "GET":
            errors |= {"400": "Invalid query parameter."}
        if getattr(self.view, "action", None) in getattr(self.view, "venue_actions", ()):
            errors |= VENUE_CALL
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses
