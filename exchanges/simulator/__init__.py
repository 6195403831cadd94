"""A local exchange that speaks the real Deribit, OKX and Bybit wire protocols.

- `engine/` matches orders and keeps accounts (records, book, fees, margin, matching, orders,
  core); it reads prices from a `PriceSource` and never imports the market.
- `market/` moves prices, quotes the books and sends taker flow (`pricing`, `generator`); the
  generator is the engine's price source and listens to it. `market.generator.build_engine`
  gives an engine with its generator.
- `common/` is what the faces share: the one WebSocket `Connection` type (`ws`), the request
  windows (`limits`), the HMAC digest (`signing`) and the fault switches (`faults`).
- `okx/`, `bybit/`, `deribit/` are the protocol faces, each with the same rooms: `face.py`
  (the app), `constants.py`, `errors.py`, `auth.py`, `wire.py` (JSON builders), `books.py`,
  `public.py`, `private.py`, `ws.py` and the REST or RPC handlers by area.
- `server` runs the faces on their ports with the `/_sim` control routes; `instruments` and
  `demo` are the reference data and demo accounts.

The faces keep their own copy of every venue fact (paths, field names, error codes, limits) on
purpose: they check the adapters in `exchanges/venues/` independently, so they never import
them: only the shared vocabulary of `exchanges.venues.base` (`Venue`, `Side`, ...) and, for
the instrument list, `exchanges.venues.symbols.unified_symbol`. A fact that is wrong in an
adapter then fails against the simulator instead of agreeing with itself.

Pure Python, no Django.
"""
