"""The simulator's Bybit v5 face: Bybit's real REST paths, WebSocket streams, signing and errors.

A client only swaps scheme, host and port (`urls`). Facts this relies on, with their sources
(`tests/fixtures/venues/SOURCES.md`, the scraped Bybit v5 docs in rosssaunders/coincise
`docs/bybit/**`, and `tests/fixtures/venues/bybit/SOURCES_SIM.md`):

- REST under `/v5/...`, envelope `retCode`/`retMsg`/`result`/`retExtInfo`/`time` (docs
  "Integration guidance"). Signed requests carry `X-BAPI-API-KEY`, `X-BAPI-TIMESTAMP`,
  `X-BAPI-SIGN`, optional `X-BAPI-RECV-WINDOW` (default 5000); the signature is the lowercase
  hex HMAC-SHA256 of timestamp + key + recv_window + (raw query string | raw JSON body), and the
  timestamp must satisfy `server_time - recv_window <= ts < server_time + 1000` (docs
  "Authentication"): 10002 outside the window, 10003 unknown key, 10004 wrong signature.
- Rate limits per UID, per endpoint, per rolling second (docs "Rate Limit Rules" table),
  reported in `X-Bapi-Limit`, `X-Bapi-Limit-Status`, `X-Bapi-Limit-Reset-Timestamp`; over the
  limit retCode 10006 "Too many visits!"; over 600 requests per 5 s from one IP, HTTP 403
  "access too frequent".
- WebSocket public streams `/v5/public/{spot,linear,inverse,option}`, private `/v5/private`
  (docs "Connect"). `{"op":"ping"}` is answered with the public or private pong shape; a
  connection with neither ping-pong nor data for 10 minutes is cut (`idle_timeout` option;
  private `?max_active_time=30s..600s`). Spot takes at most 10 args per subscribe.
- `orderbook.{depth}.{symbol}`: first push a `snapshot`, then `delta`s whose `u` grows by one,
  `seq` the cross sequence; size "0" removes a level; depth 1 sends snapshots only and repeats
  the last one after 3 s without change (same `u`); pushes are coalesced over the depth's
  interval (docs "Orderbook"). A simulated restart (`configure({"restart_books": true})`)
  sends a `u` = 1 snapshot that the client must take as a fresh book.
- Private `{"op":"auth","args":[key, expires, hex HMAC("GET/realtime" + expires)]}`; topics
  `order`, `execution`, `position`, `wallet` (and their `.category` forms) and `dcp`. The same
  auth opens `/v5/trade`, where `order.create|amend|cancel` carry a `header` with
  `X-BAPI-TIMESTAMP` (and recv window) and are answered `{op, retCode, retMsg, connId, reqId,
  data}`.
- Dead-man switch: `POST /v5/order/disconnected-cancel-all` (`timeWindow` 3..300 s, `product`
  OPTIONS|DERIVATIVES|SPOT). It fires when the account's private connections subscribed to
  `dcp` are all gone for `timeWindow` seconds, cancelling with cancelType `CancelByDCP`.
- Conditional orders: a create with `triggerPrice` (`triggerDirection` 1 rise / 2 fall and
  `triggerBy` on linear and inverse; `orderFilter` "StopOrder" on spot) waits `Untriggered`,
  keeps its `orderId`, is pushed `Triggered` then `New` when it fires and `Deactivated` when
  cancelled before; `stopOrderType` "Stop". A trigger already reached: 110092/110093 (docs
  "Place Order", "Enums", "Error Codes"; bybit/rest_orders.py). `/v5/order/amend` moves an
  untriggered one's `triggerPrice`, `qty` and limit `price` ("Amend Order"); its `triggerBy`
  stays as placed.
- A post-only order that would take is accepted (retCode 0) and then pushed as cancelled
  (rejected on spot) with rejectReason `EC_PostOnlyWillTakeLiquidity`; a spot market buy's
  `qty` is in the quote coin unless `marketUnit` is `baseCoin` (docs "Place Order").
"""
