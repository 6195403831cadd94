"""The generated market: `pricing` (the option model) and `generator` (prices, maker quotes,
taker flow, tickers; `build_engine` gives an engine driven by it)."""
