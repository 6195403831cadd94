"""Deribit API v2 face of the simulator: JSON-RPC 2.0 over HTTP and WebSocket on one port.

What a client sees (Deribit docs "JSON-RPC", "Authentication", "Notifications", the method and
subscription pages, "RPC Error Codes"; tests/fixtures/venues/SOURCES.md "Deribit"):

- HTTP `GET /api/v2/{method}` with the parameters in the query string, `POST /api/v2/{method}`
  and `POST /api/v2` with a JSON-RPC body; WebSocket `/ws/api/v2` on the same port.
- Every answer is `{"jsonrpc","id","result"|"error","usIn","usOut","usDiff","testnet"}`
  (`id` only when the request had one); errors are `{"code","message","data"}` with the codes of
  the "RPC Error Codes" table (HTTP status 401 for 13004/13009, 429 for 10028, 400 for the
  rest). Prices and amounts are JSON numbers with the exact digits of the
  engine's Decimals (encoded through `orjson.Fragment`, parsed back with `parse_float=Decimal`).
- `public/auth` grants `client_credentials`, `client_signature` (hex HMAC-SHA256 of
  `timestamp + "\\n" + nonce + "\\n" + data`, timestamp valid 60 s, nonce single use) and
  `refresh_token`; HTTP private calls carry `Authorization: Bearer <token>`, `Basic
  base64(id:secret)` or `deri-hmac-sha256 id=..,ts=..,sig=..,nonce=..` (data = METHOD + "\\n" +
  URI + "\\n" + body + "\\n"); WebSocket private calls use the connection's login or
  `access_token`.
- Rate limits per account in the credit buckets Deribit reports in `get_account_summary.limits`
  (matching engine: buy/sell/edit/cancel; cancel_all; everything else), error 10028
  `too_many_requests`; over WebSocket the session is closed after that answer.
- `public/set_heartbeat`: a `test_request` every interval; a connection that has not answered
  the previous one with `public/test` is closed (and cancel-on-disconnect fires).
- Channels `book.{instrument}.{raw|100ms}` (snapshot then changes chained by
  `change_id`/`prev_change_id`), `book.{instrument}.{group}.{depth}.{interval}`,
  `ticker.{instrument}.{raw|100ms}`, `trades.{instrument|kind.currency}.{raw|100ms}` (raw
  channels only on an authorized connection, else 13778), and, after login,
  `user.orders.*`, `user.trades.*`, `user.changes.*` (by instrument or by kind and currency) and
  `user.portfolio.{currency}`.

Trigger orders (private/buy|sell `type` stop_market, stop_limit, take_market, take_limit with
`trigger` and `trigger_price`): `untriggered` under a trigger-order id (`SLMB-12`), `triggered`
when they fire, the order they place under a new `order_id` naming them in `trigger_order_id`;
a trigger already reached is 10035 trigger_price_too_low / 10034 trigger_price_too_high
(deribit/rpc_trading.py). private/edit and edit_by_label of an untriggered one change its
`amount`, limit `price` and `trigger_price` ("private/edit").

Faults (common/faults.py): rate_limit_burst answers 10028; ack_delay_ms and lose_acks act on
private/buy, sell, edit and edit_by_label; duplicate_private and reorder_private act on the
private notifications; skip_book_sequence makes a `prev_change_id` point at a change never sent;
drop_ws() and drop_ws_probability close sockets; refuse_connections is the server's middleware.

Deliberate simplifications (said in the report too): funding is not charged, so
`realized_funding` is 0 and `interest_value` is the current funding rate; option greeks and
implied volatilities come from the generator's own Black-76 model; cancel-on-disconnect cancels
every open order of the account (option `cod_cancels` "connection" limits it to orders placed
over the closing connection, as the docs describe); labels are kept by the face, so, as on
Deribit, several orders may share one (the engine's client order ids are unique).
"""
