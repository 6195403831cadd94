"""The simulator's exchange core: instruments, price-time matching, accounts, fees, margin.

One `Engine` serves every venue. Books, accounts and order ids are kept per venue; the protocol
faces (`deribit/`, `okx/`, `bybit/`) translate the wire into calls on this class and turn
the `Listener` callbacks into the venue's pushes. The market generator (`market.generator`) trades
through the same books from two internal accounts per venue, a market maker and a taker.

Conventions a face relies on:

- Symbols are *engine symbols*: the venue symbol, except Bybit spot which is prefixed
  (`instruments.sim_symbol`, `BYBIT_SPOT_PREFIX`).
- Quantities are in the venue's order quantity unit: Deribit `amount` (USD for perpetuals and
  futures, BTC for options), OKX `sz` (base for spot, contracts for swaps), Bybit `qty` (base
  for spot and linear, USD for inverse).
- The engine is single-threaded (one asyncio loop calls it); listener callbacks run
  synchronously inside the call that caused them and receive the live objects, so a face
  serializes what it needs inside the callback.
- Callbacks for one operation arrive in this order: `on_order` (accepted, status NEW), then per
  match `on_trade`, `on_fill` (taker), `on_fill` (maker), `on_order` (maker), then `on_order`
  (the taker's final state), `on_position`, `on_balance`, and last `on_book`.
- A spot fill pays its fee in the coin it receives on OKX and Bybit (`SPOT_FEE_IN_RECEIVED_COIN`:
  a buy in the base coin, a sell in the quote coin), a derivative's in its settlement coin;
  `SimFill.fee_currency` and `SimOrder.fee_currency` say which, `Engine.fee_currency` before
  any fill.
- The internal market-maker and taker accounts never produce `on_order`, `on_fill`,
  `on_position` or `on_balance`; their trades still produce `on_trade`, `on_book` and fills
  for the user accounts they trade with.
- Every CANCELED order carries a `CancelReason`: an IOC remainder `IOC_REMAINDER`, a market
  order's unfilled rest `MARKET_REMAINDER`, an unfillable FOK `FOK_NOT_FILLABLE`, the way the
  venues report them; a market order against an empty book raises NO_LIQUIDITY.
- Venue rules a face chooses per call: `place_order(post_only_action=...)` (refuse a post-only
  order that would take, or record it and end it CANCELED or REJECTED with one `on_order`),
  `place_order(client_id_scope=...)` (a client order id unique among open orders or among all),
  `amend_order(at_or_below_filled=...)` (an amend to the filled size or below: refused or
  filling the order).
  The defaults are the behaviour the Deribit face is written against.
- `SimFill.closed_quantity` is what the fill closed of an opposite position and
  `SimFill.realized_pnl` what closing it earned (fee not included); in `on_fill` the position is
  already the one after the fill.
- `cancel_order(reason=...)` and `cancel_all(reason=...)` say why a face cancels (`DISCONNECT`
  for cancel-on-disconnect, `DEAD_MAN_SWITCH` for a countdown).
- `option_greeks` and `implied_volatility` give an option's model figures (the generator's
  Black-76 on the venue forward), so a face's greeks and volatilities agree with its prices.

Where things live: `records` (what the engine hands out, `Listener`), `book` (one instrument's
book), `fees`, `margin`, `matching`, `orders` (the `Engine` mixins), `core` (the `Engine`, and
the `PriceSource` it reads prices from).
"""
