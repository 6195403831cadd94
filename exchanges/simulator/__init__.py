"""A local exchange that speaks the real Deribit, OKX and Bybit wire protocols.

`engine` matches orders and generates a market; `deribit`, `okx` and `bybit` are the protocol
faces; `server` runs them on their ports; `faults` injects failures. Pure Python, no Django.
"""
