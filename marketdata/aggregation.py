"""The consolidated view of one asset pair across venues, and the arbitrage it shows.

Pure functions on `Decimal`s (no Django, no I/O), called by the market data runner with the
live books it holds. A pair is a unified symbol (`BTC/USDT:USDT`, `BTC/USD:BTC`, `BTC/USDT`)
that several venues list under their own names.

Units. Every size here is in the pair's base currency (BTC), every price in its quote currency
(USDT, USD), so the levels of venues with different contract sizes add up. A venue book's sizes
are in that venue's order quantity unit (`InstrumentInfo`, `exchanges/venues/base.py`);
`quantity_unit` says how much of the contract currency one unit is, where the contract currency
is the base for spot and linear instruments and the quote for inverse ones:

- OKX swaps and futures count contracts of `ctVal` (`contract_size`: BTC-USDT-SWAP 0.01 BTC,
  BTC-USD-SWAP 100 USD); OKX spot sizes are in the base coin (`contract_size` 1).
- Bybit linear and spot sizes are in the base coin, inverse (BTCUSD) sizes in USD; its
  `contract_size` is always 1.
- Deribit `amount`s are already in the contract currency: USD for inverse perpetuals and futures
  (BTC-PERPETUAL book levels of 199190 mean 199190 USD, although `contract_size` is 10 USD, the
  order step), the base coin for linear (`_USDC`) instruments. The unit is 1, never
  `contract_size`.

So base = size x unit on a linear or spot book, and base = size x unit / price on an inverse one.

Fees are taker rates (a fraction: 0.0005 is 5 bps) of the traded notional; `DEFAULT_TAKER_FEES`
holds the base tier of each venue, which `taker_fees` lets a deployment override.

Rounding. Products and sums are exact (computed in a 50-digit context). Each figure that is a
quotient is rounded once: an inverse size to `BASE_QUANTUM` (1e-12) toward zero, so a size is
never overstated; the volume-weighted prices to `PRICE_QUANTUM` (1e-8) and the edge in bps to
`BPS_QUANTUM` (1e-4), half even. The edge in quote currency is rounded toward zero to
`QUOTE_QUANTUM` (1e-8) so that it fits the database's 15 significant digits on SQLite. The
threshold is compared on the exact figures, before any rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal, localcontext
from itertools import permutations

from exchanges.venues import quantities
from exchanges.venues.base import InstrumentInfo, InstrumentKind, PriceLevel, Venue

ZERO = Decimal(0)
ONE = Decimal(1)
BPS = Decimal(10_000)
BASE_QUANTUM = Decimal("1e-12")
PRICE_QUANTUM = Decimal("1e-8")
QUOTE_QUANTUM = Decimal("1e-8")
BPS_QUANTUM = Decimal("1e-4")
DEFAULT_DEPTH = 25
_EXACT = Context(prec=50)

SPOT = "spot"
DERIVATIVES = "derivatives"

# Taker rates of each venue's base tier (VIP 0) by market: OKX "Fee rates" (spot 0.10%,
# swaps 0.05%), Bybit "Trading Fee Structure" (spot 0.10%, derivatives 0.055%), Deribit "Fees"
# (perpetuals and futures 0.05%; Deribit lists no spot pair here). The simulator charges the
# same (`exchanges/simulator/engine/fees.py`).
DEFAULT_TAKER_FEES: Mapping[tuple[Venue, str], Decimal] = {
    (Venue.OKX, SPOT): Decimal("0.001"),
    (Venue.OKX, DERIVATIVES): Decimal("0.0005"),
    (Venue.BYBIT, SPOT): Decimal("0.001"),
    (Venue.BYBIT, DERIVATIVES): Decimal("0.00055"),
    (Venue.DERIBIT, DERIVATIVES): Decimal("0.0005"),
}


# --------------------------------------------------------------------------- units


def quantity_unit(info: InstrumentInfo) -> Decimal:
    """How much of the contract currency (base for spot and linear, quote for inverse) one unit
    of the venue's book size is (`exchanges.venues.quantities.unit_value`)."""
    return quantities.unit_value(info)


def base_size(info: InstrumentInfo, price: Decimal, size: Decimal) -> Decimal:
    """`size` of a level of `info`'s book at `price`, in the base currency
    (`quantities.base_quantity`: exact for linear and spot; inverse rounded toward zero to
    `BASE_QUANTUM`). Options are refused: their price is a premium, not the pair's price.
    """
    if info.kind is InstrumentKind.OPTION:
        raise ValueError(f"{info.symbol}: an option book is not a pair's book")
    return quantities.base_quantity(info, size, price)


@dataclass(frozen=True, slots=True)
class VenueBook:
    """One venue's book of a pair, sizes in the base currency, best level first."""

    venue: Venue
    symbol: str
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]


def book_in_base(
    info: InstrumentInfo, bids: Iterable[PriceLevel], asks: Iterable[PriceLevel]
) -> VenueBook:
    """A venue's levels (a `BookSnapshot`'s, or `OrderBook.top(depth)`), best first, in the
    venue's quantity unit -> the same book in base currency. Empty levels are left out."""

    def convert(levels: Iterable[PriceLevel]) -> tuple[PriceLevel, ...]:
        return tuple(
            (price, base) for price, size in levels if (base := base_size(info, price, size)) > 0
        )

    return VenueBook(venue=info.venue, symbol=info.symbol, bids=convert(bids), asks=convert(asks))


# --------------------------------------------------------------------------- fees


def taker_fees(
    kind: InstrumentKind, overrides: Mapping[str, str] | None = None
) -> dict[Venue, Decimal]:
    """Taker rate of each venue for a pair of `kind`: `DEFAULT_TAKER_FEES`, with `overrides`
    (`settings.ARBITRAGE_TAKER_FEES`) on top, keyed `"<venue>:<market>"` (`"okx:spot"`,
    `"bybit:derivatives"`) with the rate as text (`"0.0004"`)."""
    market = SPOT if kind is InstrumentKind.SPOT else DERIVATIVES
    fees = {venue: rate for (venue, where), rate in DEFAULT_TAKER_FEES.items() if where == market}
    for key, rate in (overrides or {}).items():
        venue, _, where = key.partition(":")
        if where not in (SPOT, DERIVATIVES):
            raise ValueError(f"taker fee key {key!r}: expected '<venue>:spot|derivatives'")
        if where == market:
            fees[Venue(venue)] = Decimal(str(rate))
    return fees


# --------------------------------------------------------------------------- consolidated book


@dataclass(frozen=True, slots=True)
class ConsolidatedLevel:
    """One price of the consolidated book: the total size and each venue's share (base)."""

    price: Decimal
    size: Decimal
    sizes: tuple[tuple[Venue, Decimal], ...]  # by venue name


@dataclass(frozen=True, slots=True)
class ConsolidatedBook:
    """A pair's levels merged across venues by price, best first, `depth` per side at most."""

    symbol: str
    bids: tuple[ConsolidatedLevel, ...]
    asks: tuple[ConsolidatedLevel, ...]
    venues: tuple[Venue, ...]

    @property
    def best_bid(self) -> ConsolidatedLevel | None:
        return self.bids[0] if self.bids else None

    @property
    def best_ask(self) -> ConsolidatedLevel | None:
        return self.asks[0] if self.asks else None


def _checked(symbol: str, books: Iterable[VenueBook]) -> list[VenueBook]:
    books = list(books)
    for book in books:
        if book.symbol != symbol:
            raise ValueError(f"a {book.venue} book of {book.symbol} given for {symbol}")
    venues = [book.venue for book in books]
    if len(set(venues)) != len(venues):
        raise ValueError(f"{symbol}: one book per venue, got {sorted(venues)}")
    return books


def _merge(
    sides: Iterable[tuple[Venue, Sequence[PriceLevel]]], *, descending: bool, depth: int
) -> tuple[ConsolidatedLevel, ...]:
    by_price: dict[Decimal, dict[Venue, Decimal]] = {}
    for venue, levels in sides:
        for price, size in levels:
            if size > 0:
                at = by_price.setdefault(price, {})
                at[venue] = at.get(venue, ZERO) + size
    prices = sorted(by_price, reverse=descending)[:depth]
    return tuple(
        ConsolidatedLevel(
            price=price,
            size=sum(by_price[price].values(), ZERO),
            sizes=tuple(sorted(by_price[price].items())),
        )
        for price in prices
    )


def consolidated_book(
    symbol: str, books: Iterable[VenueBook], depth: int = DEFAULT_DEPTH
) -> ConsolidatedBook:
    """The consolidated book of `symbol`: every venue's levels (in base currency) merged by
    price, the best `depth` per side; `best_bid`/`best_ask` are the best across venues. A venue
    whose own book is crossed is shown as it is."""
    books = _checked(symbol, books)
    return ConsolidatedBook(
        symbol=symbol,
        bids=_merge(((b.venue, b.bids) for b in books), descending=True, depth=depth),
        asks=_merge(((b.venue, b.asks) for b in books), descending=False, depth=depth),
        venues=tuple(sorted(book.venue for book in books)),
    )


# --------------------------------------------------------------------------- arbitrage


@dataclass(frozen=True, slots=True)
class Opportunity:
    """Buy `size` (base) on `buy_venue`'s asks and sell it on `sell_venue`'s bids, both as a
    taker. Prices are volume-weighted over the levels taken; `net_edge_quote` is what the two
    trades leave after both taker fees, in quote currency, and `net_edge_bps` that edge over
    the bought notional (`size` x `buy_price`)."""

    symbol: str
    buy_venue: Venue
    sell_venue: Venue
    size: Decimal
    buy_price: Decimal
    sell_price: Decimal
    net_edge_quote: Decimal
    net_edge_bps: Decimal


def _walk(
    symbol: str,
    buy: VenueBook,
    sell: VenueBook,
    fee_buy: Decimal,
    fee_sell: Decimal,
    min_edge_bps: Decimal,
) -> Opportunity | None:
    """Take asks of `buy` and bids of `sell`, best first, while a bid net of the sell fee
    pays more than an ask with the buy fee: `bid x (1 - fee_sell) > ask x (1 + fee_buy)`."""
    with localcontext(_EXACT):
        buy_factor, sell_factor = ONE + fee_buy, ONE - fee_sell
        asks, bids = list(buy.asks), list(sell.bids)
        i = j = 0
        left_ask = asks[0][1] if asks else ZERO
        left_bid = bids[0][1] if bids else ZERO
        size = bought = sold = edge = ZERO
        while i < len(asks) and j < len(bids):
            ask, bid = asks[i][0], bids[j][0]
            margin = bid * sell_factor - ask * buy_factor
            if margin <= 0:
                break
            quantity = min(left_ask, left_bid)
            size += quantity
            bought += quantity * ask
            sold += quantity * bid
            edge += quantity * margin
            left_ask -= quantity
            left_bid -= quantity
            if left_ask == 0:
                i += 1
                left_ask = asks[i][1] if i < len(asks) else ZERO
            if left_bid == 0:
                j += 1
                left_bid = bids[j][1] if j < len(bids) else ZERO
        if size == 0 or edge * BPS < min_edge_bps * bought:
            return None
        return Opportunity(
            symbol=symbol,
            buy_venue=buy.venue,
            sell_venue=sell.venue,
            size=size,
            buy_price=(bought / size).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN),
            sell_price=(sold / size).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN),
            net_edge_quote=edge.quantize(QUOTE_QUANTUM, rounding=ROUND_DOWN),
            net_edge_bps=(edge * BPS / bought).quantize(BPS_QUANTUM, rounding=ROUND_HALF_EVEN),
        )


def find_opportunities(
    symbol: str,
    books: Iterable[VenueBook],
    fees: Mapping[Venue, Decimal],
    min_edge_bps: Decimal,
) -> tuple[Opportunity, ...]:
    """Every venue pair (buy on one, sell on another) whose books cross by more than both taker
    fees, with an edge of at least `min_edge_bps`, the largest edge in quote currency first.

    `books` are in base currency (`book_in_base`), `fees` the taker rate of each venue
    (`taker_fees`). One venue's own crossed book is never an opportunity: buy and sell venues
    always differ.
    """
    books = _checked(symbol, books)
    missing = sorted(book.venue for book in books if book.venue not in fees)
    if missing:
        raise ValueError(f"{symbol}: no taker fee for {missing}")
    found = [
        opportunity
        for buy, sell in permutations(books, 2)
        if (
            opportunity := _walk(
                symbol, buy, sell, fees[buy.venue], fees[sell.venue], Decimal(min_edge_bps)
            )
        )
        is not None
    ]
    return tuple(sorted(found, key=lambda o: (-o.net_edge_quote, o.buy_venue, o.sell_venue)))
