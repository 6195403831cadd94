"""Venue errors in the one error format: each class of the adapters' hierarchy gets the status
that says what the caller can do, with the venue's own code and message."""

import pytest

from exchanges.venues import base as venue
from gateway_site.api.errors import VENUE_ERRORS, venue_error_response


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (
            venue.RateLimited("too many", venue="okx", code="50011", retry_after=2.4),
            429,
            "venue_rate_limited",
        ),
        (
            venue.InsufficientFunds("no margin", venue="bybit", code="110007"),
            422,
            "insufficient_funds",
        ),
        (
            venue.PostOnlyWouldCross("would take", venue="deribit", code="11054"),
            422,
            "post_only_would_cross",
        ),
        (
            venue.ReduceOnlyViolation("reduce", venue="okx", code="51169"),
            422,
            "reduce_only_violation",
        ),
        (
            venue.DuplicateClientOrderId("dup", venue="okx", code="51016"),
            409,
            "duplicate_client_order_id",
        ),
        (venue.InvalidPrice("tick", venue="okx", code="51006"), 400, "invalid_price"),
        (venue.InvalidSize("lot", venue="okx", code="51121"), 400, "invalid_size"),
        (venue.InvalidOrder("bad", venue="okx", code="51000"), 400, "invalid_order"),
        (venue.OrderNotFound("gone", venue="okx", code="51603"), 404, "venue_order_not_found"),
        (venue.ClockSkew("skew", venue="bybit", code="10002"), 503, "venue_clock_skew"),
        (
            venue.AuthenticationError("bad key", venue="bybit", code="10003"),
            502,
            "venue_authentication_failed",
        ),
        (
            venue.PermissionDenied("read only", venue="bybit", code="10005"),
            502,
            "venue_permission_denied",
        ),
        (venue.RequestTimeout("slow", venue="okx", code="connection"), 504, "venue_timeout"),
        (
            venue.VenueUnavailable("maintenance", venue="okx", code="50001"),
            503,
            "venue_unavailable",
        ),
        (venue.ProtocolError("garbled", venue="deribit", code=""), 502, "venue_protocol_error"),
        (venue.VenueError("other", venue="deribit", code="9999"), 502, "venue_error"),
    ],
)
def test_each_venue_error_class_has_its_status(error, status, code):
    response = venue_error_response(error)
    assert response.status_code == status
    assert response.data == {
        "error": {
            "code": code,
            "message": error.message,
            "fields": {},
            "venue": error.venue,
            "venue_code": error.code,
        }
    }


def test_rate_limited_says_when_to_retry():
    response = venue_error_response(venue.RateLimited("x", venue="okx", retry_after=2.4))
    assert response["Retry-After"] == "2"
    assert "Retry-After" not in venue_error_response(venue.RateLimited("x", venue="okx"))


def test_every_class_of_the_hierarchy_is_mapped_before_its_parent():
    classes = [cls for cls, _, _ in VENUE_ERRORS]
    for index, cls in enumerate(classes):
        for later in classes[index + 1 :]:
            assert not issubclass(later, cls) or later is cls, f"{later} is shadowed by {cls}"
    every = {venue.VenueError, *_subclasses(venue.VenueError)}
    assert every <= set(classes)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
