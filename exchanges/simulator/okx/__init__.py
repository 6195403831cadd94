"""OKX API v5 protocol face of the simulator: REST under `/api/v5`, WebSockets `/ws/v5/public`
and `/ws/v5/private`, on one port, so an OKX client only swaps scheme, host and port.

What it follows (OKX API v5 docs, www.okx.com/docs-v5/en, sections named; scraped copy in
rosssaunders/coincise docs/okx/*.md), and the recorded payloads in tests/fixtures/venues/okx:

- REST authentication ("REST Authentication"): headers `OK-ACCESS-KEY`, `OK-ACCESS-SIGN`,
  `OK-ACCESS-TIMESTAMP` (ISO-8601 with ms), `OK-ACCESS-PASSPHRASE`; sign =
  Base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath(+query) + body)). Errors 50103 /
  50104 (missing header), 50112 (bad timestamp), 50102 (timestamp more than 30 s off), 50111
  (unknown key), 50105 (wrong passphrase), 50113 (bad signature), all HTTP 401 ("Error Code").
- Envelope `{"code": "0", "msg": "", "data": [...]}`; order operations report each order's
  `sCode`/`sMsg` inside `data`, with top-level `code` "1" ("Operation failed.") when the only
  order failed and "2" when a batch partly failed ("Error Code", General Class).
- Rate limits ("Rate Limits" and each endpoint's "Rate Limit" line): 50011 "Too Many Requests",
  HTTP 429.
- WebSocket ("WebSocket": Connect, Login, Subscribe): text `ping` -> `pong`; a connection with
  nothing pushed for 30 s is closed (code 4004 "No data received in 30s", "Error Code"
  WebSocket close frames); login with Unix-seconds timestamp and sign of
  timestamp + "GET" + "/users/self/verify", valid 30 s (errors 60004-60024 as events).
- Books: `books` (400 levels, 100 ms), `books5` (5 levels snapshots, 100 ms), `bbo-tbt`
  (1 level, 10 ms), `books-l2-tbt` (400 levels, 10 ms), `books50-l2-tbt` (50 levels, 10 ms).
  Every update carries `seqId` and `prevSeqId` (= the previous message's `seqId`; -1 on a
  snapshot). One sequence per instrument is shared by every channel and by
  `GET /api/v5/market/books` (its `seqId` is the state the REST book shows), so a client can
  start from the REST book and apply the buffered stream. Three book modes (issue 3; OKX
  announcement "Order Book Channels Checksum Field Deprecation", May 2026):
  `current` (snapshot on subscribe, `checksum` 0), `checksum` (the older CRC32 of the top 25
  levels, interleaved `bid:size:ask:size...`, as a signed 32-bit integer) and `no_snapshot`
  (updates only; the REST book is the start).
- Private channels `orders`, `positions`, `account` ("Order channel", "Positions channel",
  "Account channel"), pushed from the engine's listener events for the logged-in key only.
- `POST /api/v5/trade/cancel-all-after` ("Cancel All After"): timeOut 0 or 10..120 s; when it
  fires every open order on the book of the account is canceled (`cancelSource` "20"); the docs
  say "all pending orders ... through order book", so untriggered algo orders stay.
- Algo orders, one-way stop loss / take profit only (`ordType` conditional; "Algo Trading":
  place, cancel-algos, orders-algo-pending/-history, order-algo details, the `orders-algo`
  channel): `rest_algo.py`, `algo_wire.py`. The order a fired algo places has its own `ordId`,
  an empty `clOrdId`, and carries `algoId`/`algoClOrdId` on `orders` and `/trade/order(s)`;
  the plain-order endpoints know the algo only by that `ordId`, once fired.

- Private WebSocket order operations `order`, `amend-order`, `cancel-order` ("WS / Place
  order"...), the `channel-conn-count` event on new orders/account/positions subscriptions
  ("Connection count limit"), and the VIP-only `fills` channel refused with 64003.
- Order states: post-only orders that would take are accepted and canceled (`cancelSource`
  31), IOC/market remainders canceled with 14, FOK with 13, user cancels 1 ("Order channel",
  cancelSource). A spot market buy is sized in quote currency unless `tgtCcy` is `base_ccy`.
  An amend with `newSz` at or below the filled size ends the order filled ("Amend order").

Key sets of every message follow the recorded payloads (`okx/*.json`); fields of the docs the
recordings lack are left out so both readings agree. Known simplifications: net position mode
and cross margin only; `books-l2-tbt`/`books50-l2-tbt` need no VIP login.

Run-time switches (`configure`, or `POST /_sim/config` on the face's port): `book_mode`,
`ws_idle_timeout_s` (30), `book_interval_ms` (100), `tbt_interval_ms` (10), `rate_limits`
(true), `cancel_all_after_scale` (1.0; tests shrink the dead-man countdown),
`book_keepalive_s` (60: the empty update OKX sends on a book that has not changed).
"""
