"""`/ws/stream`: the live market data feed fanned out to WebSocket clients.

- `hub`: one task per web process joins the feed group and fans each batch out;
- `mailbox`: each client's conflating outbox (in order while it keeps up, bounded when not);
- `consumer`: the Channels consumer (login, subscribe/unsubscribe/ping, its writer task);
- `access`: who may read which channel, and which channels exist.
"""
