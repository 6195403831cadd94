"""One error format for every error the API returns, DRF's and Django's alike:

    {"error": {"code": "validation_error", "message": "...", "fields": {"field": ["reason"]}}}

`code` is stable and machine-readable; `message` is for people; `fields` names each invalid input
(empty when the error is not about one). Venue errors (`exchanges.venues.base.VenueError`) keep
the venue's own code and message in `venue_code`/`message` and get a status that says what the
caller can do: retry later (429/503), fix the order (400/422), or wait for the venue (502/503).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views import csrf, defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from exchanges.venues import base as venue

logger = logging.getLogger(__name__)

# Most specific class first: the first match decides.
VENUE_ERRORS: tuple[tuple[type[venue.VenueError], int, str], ...] = (
    (venue.ClockSkew, status.HTTP_503_SERVICE_UNAVAILABLE, "venue_clock_skew"),
    (venue.AuthenticationError, status.HTTP_502_BAD_GATEWAY, "venue_authentication_failed"),
    (venue.PermissionDenied, status.HTTP_502_BAD_GATEWAY, "venue_permission_denied"),
    (venue.RateLimited, status.HTTP_429_TOO_MANY_REQUESTS, "venue_rate_limited"),
    (venue.InsufficientFunds, status.HTTP_422_UNPROCESSABLE_ENTITY, "insufficient_funds"),
    (venue.PostOnlyWouldCross, status.HTTP_422_UNPROCESSABLE_ENTITY, "post_only_would_cross"),
    (venue.ReduceOnlyViolation, status.HTTP_422_UNPROCESSABLE_ENTITY, "reduce_only_violation"),
    (venue.DuplicateClientOrderId, status.HTTP_409_CONFLICT, "duplicate_client_order_id"),
    (venue.InvalidPrice, status.HTTP_400_BAD_REQUEST, "invalid_price"),
    (venue.InvalidSize, status.HTTP_400_BAD_REQUEST, "invalid_size"),
    (venue.InvalidOrder, status.HTTP_400_BAD_REQUEST, "invalid_order"),
    (venue.OrderNotFound, status.HTTP_404_NOT_FOUND, "venue_order_not_found"),
    (venue.RequestTimeout, status.HTTP_504_GATEWAY_TIMEOUT, "venue_timeout"),
    (venue.VenueUnavailable, status.HTTP_503_SERVICE_UNAVAILABLE, "venue_unavailable"),
    (venue.SubmissionUncertain, status.HTTP_502_BAD_GATEWAY, "venue_outcome_unknown"),
    (venue.ProtocolError, status.HTTP_502_BAD_GATEWAY, "venue_protocol_error"),
    (venue.VenueError, status.HTTP_502_BAD_GATEWAY, "venue_error"),
)

DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


def error_body(
    code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any
) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field" or "parent.child" or "items.0.price": [reasons]}."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_flatten(value, name))
        return flat
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    reasons = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(reason) for reason in reasons]} if reasons else {}


def _validation_body(exc: exceptions.ValidationError) -> dict:
    fields = _flatten(exc.detail)
    general = fields.pop("non_field_errors", None)
    if general and not fields:
        return error_body("validation_error", " ".join(general))
    if general:
        fields["non_field_errors"] = general
    named = ", ".join(sorted(fields))
    return error_body("validation_error", f"Invalid input: {named}.", fields)


def venue_error_response(exc: venue.VenueError) -> Response:
    http_status, code = next(
        (http_status, code) for cls, http_status, code in VENUE_ERRORS if isinstance(exc, cls)
    )
    body = error_body(
        code,
        exc.message,
        venue=str(exc.venue) if exc.venue else "",
        venue_code=exc.code,
    )
    headers = {}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        headers["Retry-After"] = str(max(1, round(retry_after)))
    return Response(body, status=http_status, headers=headers)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error in the one format. An unexpected exception is logged
    with its traceback and answered as a 500 that reveals nothing of it."""
    if isinstance(exc, venue.VenueError):
        return venue_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        if "__all__" in detail:
            detail["non_field_errors"] = detail.pop("__all__")
        exc = exceptions.ValidationError(detail)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled error in %s", context.get("view"), exc_info=exc)
        return Response(
            error_body("server_error", "The server failed to answer; the error is logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
        return response
    code = next(
        (name for cls, name in DRF_CODES.items() if isinstance(exc, cls)),
        str(getattr(exc, "default_code", "error")),
    )
    message = str(exc.detail) if isinstance(exc, exceptions.APIException) else str(exc)
    response.data = error_body(code, message)
    return response


def _api_or_site(request: HttpRequest, api: JsonResponse, site) -> Any:
    """API paths answer in the error format; admin and the rest keep Django's pages."""
    return api if request.path.startswith("/api/") else site()


def bad_request(request: HttpRequest, exception: Exception | None = None):
    return _api_or_site(
        request,
        JsonResponse(error_body("bad_request", "The request could not be understood."), status=400),
        lambda: defaults.bad_request(request, exception),
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None):
    return _api_or_site(
        request,
        JsonResponse(
            error_body("permission_denied", "You do not have permission to do this."), status=403
        ),
        lambda: defaults.permission_denied(request, exception),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None):
    return _api_or_site(
        request,
        JsonResponse(error_body("not_found", f"Nothing at {request.path}."), status=404),
        lambda: defaults.page_not_found(request, exception),
    )


def server_error(request: HttpRequest):
    return _api_or_site(
        request,
        JsonResponse(
            error_body("server_error", "The server failed to answer; the error is logged."),
            status=500,
        ),
        lambda: defaults.server_error(request),
    )


def csrf_failure(request: HttpRequest, reason: str = ""):
    return _api_or_site(
        request,
        JsonResponse(error_body("csrf_failed", f"CSRF check failed: {reason}"), status=403),
        lambda: csrf.csrf_failure(request, reason),
    )
