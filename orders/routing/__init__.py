"""Smart order routing: which venues get how much of an order, decided from the live books.

Pure functions on `Decimal`s (no Django, no I/O), called by the thin service `orders.routed`
with the inputs it gathered: each eligible account's book side (in base currency, best first,
`marketdata.aggregation.book_in_base`), its taker fee and how much it can fund. Keeping the
decision pure makes it testable to the last digit and fast enough to benchmark alone.

The decision. Every level of every eligible venue is priced net of that account's taker fee
(a buy costs `price x (1 + fee)`, a sell yields `price x (1 - fee)`), and the order takes the
best net levels first across all venues, each venue up to the base quantity its account can
fund. Because the cost is linear in the quantity (no fixed cost per child), this greedy walk is
the cheapest split of the order over the visible books; a single venue is the special case where
its levels alone are best. Only levels within the slippage bound are taken: `max_slippage_bps`
from the best raw price seen on any eligible venue, and never beyond the parent's limit price.

Each venue's share is then converted to that venue's order quantity (contracts, coins or USD,
`exchanges.venues.quantities`) and rounded down to its lot, never up, so no child asks for more
than was planned; a share below the venue's minimum size or value leaves that venue out and the
walk is repeated without it. Market children are sent as limit IOC orders at the bound (rounded
to the venue's tick toward the best price), so no child can fill beyond the slippage the caller
accepted; limit children are GTC at the parent's price, and a limit order's part not executable
now rests on the venue with the best net top of book.

Rounding: products and sums are exact (50 digits); each quotient once: base quantities toward
zero to `BASE_QUANTUM`, average prices half even to `PRICE_QUANTUM`.
"""

from orders.routing.inputs import (
    ACCOUNT_DISABLED,
    BASE_QUANTUM,
    BELOW_MINIMUM,
    CANNOT_TRADE,
    CONNECTOR_DOWN,
    EMPTY_SIDE,
    KILL_SWITCH,
    LIMIT,
    MARKET,
    NO_BOOK,
    NO_FUNDS,
    PRICE_QUANTUM,
    REJECTED,
    STALE_BOOK,
    child_price,
    exclusion_reason,
    funded_cap,
    funds_per_base,
    levels_in_base,
    limit_cap,
    net_price,
    slippage_bound,
    venue_quantity,
)
from orders.routing.plan import (
    Candidate,
    Child,
    Excluded,
    Plan,
    consume,
    plan_route,
    reroute,
    single_venue_estimates,
)

__all__ = [
    "ACCOUNT_DISABLED",
    "BASE_QUANTUM",
    "BELOW_MINIMUM",
    "CANNOT_TRADE",
    "CONNECTOR_DOWN",
    "EMPTY_SIDE",
    "KILL_SWITCH",
    "LIMIT",
    "MARKET",
    "NO_BOOK",
    "NO_FUNDS",
    "PRICE_QUANTUM",
    "REJECTED",
    "STALE_BOOK",
    "Candidate",
    "Child",
    "Excluded",
    "Plan",
    "child_price",
    "consume",
    "exclusion_reason",
    "funded_cap",
    "funds_per_base",
    "levels_in_base",
    "limit_cap",
    "net_price",
    "plan_route",
    "reroute",
    "single_venue_estimates",
    "slippage_bound",
    "venue_quantity",
]
