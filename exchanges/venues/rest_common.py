"""What every venue's REST client does the same way, whatever the venue's wire looks like.

- `pooled_session`: one `requests.Session` per client with a connection pool and no transport
  retries (`requests` would otherwise be free to send a POST twice: an order placed twice).
- `send`: one HTTP request with the client's (connect, read) timeout; a timeout or a broken
  connection becomes `RequestTimeout`, since whether the venue received it is unknown.
- `penalize`: a rate-limit answer holds the endpoint group in the client's `RateLimiter` and
  says for how long on the error (`retry_after`).
- `settle_lost_placement`: a placement whose answer was lost is never sent again; the order is
  looked up by client order id (each venue passes its own lookup) and reported as found
  (ACCEPTED: the order is returned), ABSENT or UNKNOWN (`SubmissionUncertain`).

Venue knowledge (envelopes, error codes, which answers count as "lost") stays in the venue's
`rest.py`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
from requests.adapters import HTTPAdapter

from exchanges.venues.base import (
    OrderRequest,
    OrderUpdate,
    RateLimited,
    RequestTimeout,
    SubmissionUncertain,
    SubmitOutcome,
    Venue,
    VenueError,
)
from exchanges.venues.ratelimit import RateLimiter

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)  # seconds: (connect, read)


def pooled_session(
    session: requests.Session | None = None, *, pool_maxsize: int = 16
) -> requests.Session:
    """`session` as given (a caller's, e.g. one shared by several clients), or a new one whose
    adapters keep up to `pool_maxsize` connections per host and never retry."""
    if session is not None:
        return session
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    venue: Venue,
    what: str,
    timeout: tuple[float, float] | float,
    data: str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """Send one request. A timeout (code "timeout") or a failed or broken connection (code
    "connection") raises `RequestTimeout` naming `what`: the caller decides what an unknown
    outcome means (placement looks the order up; anything else is simply unavailable)."""
    try:
        return session.request(method, url, data=data, headers=headers, timeout=timeout)
    except requests.Timeout as exc:
        raise RequestTimeout(f"{what}: {exc}", venue=venue, code="timeout") from exc
    except requests.ConnectionError as exc:
        raise RequestTimeout(
            f"{what}: connection failed: {exc}", venue=venue, code="connection"
        ) from exc


def penalize(limiter: RateLimiter, group: str, error: RateLimited, seconds: float) -> RateLimited:
    """Hold `group` for `seconds` (no request leaves before) and put that on `error`."""
    limiter.penalize(group, seconds)
    error.retry_after = seconds
    return error


def settle_lost_placement(
    request: OrderRequest,
    cause: VenueError,
    lookup: Callable[[], OrderUpdate | None],
    *,
    venue: Venue,
) -> OrderUpdate:
    """The order a placement with a lost answer (`cause`) created, if the venue has it.

    `lookup()` asks the venue for the order by `request.client_order_id` (None: the venue
    answered that it has no such order). Found: the order is returned (ACCEPTED). Not found:
    `SubmissionUncertain` ABSENT. The lookup failing too: `SubmissionUncertain` UNKNOWN. Both
    carry the placement's error code; reconciliation settles them, nothing is resent."""
    client_order_id = request.client_order_id
    try:
        found = lookup()
    except VenueError as lookup_error:
        raise SubmissionUncertain(
            f"placement of {client_order_id} unanswered ({cause}); "
            f"lookup by client order id failed too ({lookup_error})",
            outcome=SubmitOutcome.UNKNOWN,
            venue=venue,
            code=cause.code,
        ) from lookup_error
    if found is None:
        raise SubmissionUncertain(
            f"placement of {client_order_id} unanswered ({cause}); the venue has no such order",
            outcome=SubmitOutcome.ABSENT,
            venue=venue,
            code=cause.code,
        ) from cause
    log.warning(
        "%s placement of %s unanswered, found it by client order id", venue, client_order_id
    )
    return found
