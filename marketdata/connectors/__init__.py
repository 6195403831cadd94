"""The connectors: venue public streams in, live books, the feed, health and stored market
data out. `service.MarketDataService` is the whole; `exchange.ExchangeConnector` one
exchange's stream; `books` the book rules; `config` the desired state; `health` and `status`
the heartbeat; `persist` the batched writes; `consolidation` the cross-venue view and
arbitrage. Run by `manage.py run_connectors` or inside `run_gateway`."""
