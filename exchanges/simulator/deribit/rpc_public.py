"""Deribit public methods: time, test, hello, currencies, instruments, ticker, order book, last
trades.
"""

from __future__ import annotations

from exchanges.simulator.deribit.constants import (
    API_VERSION,
    CURRENCIES,
    CURRENCY_DETAILS,
    INSTRUMENT_KINDS,
    VENUE,
)
from exchanges.simulator.deribit.errors import RpcError, invalid_params_error
from exchanges.simulator.deribit.rpc import Call
from exchanges.simulator.deribit.wire import (
    instrument_kind,
    ms,
    param_boolean,
    param_integer,
    param_text,
)
from exchanges.venues.base import InstrumentInfo


class DeribitPublicMethods:
    """Deribit `public/*` method handlers."""

    async def _public_get_time(self, call: Call, params: dict) -> int:
        return ms(self.engine.clock_ns())

    async def _public_test(self, call: Call, params: dict) -> dict:
        if call.conn is not None:
            call.conn.heartbeat_unanswered = False
        if params.get("expected_result") == "exception":
            raise RpcError(11094, "internal_server_error", {"reason": "expected_result exception"})
        return {"version": API_VERSION}

    async def _public_hello(self, call: Call, params: dict) -> dict:
        return {"version": API_VERSION}

    def _info(self, params: dict, name: str = "instrument_name") -> InstrumentInfo:
        instrument = param_text(params, name, required=True)
        info = self.instruments.get(instrument)
        if info is None:
            raise RpcError(
                10020,
                "invalid_or_unsupported_instrument",
                {"reason": f"instrument {instrument} not found", "param": name},
            )
        return info

    def _currency(self, params: dict, *, allow_any: bool) -> str:
        currency = param_text(params, "currency", required=True)
        if currency not in CURRENCIES and not (allow_any and currency == "any"):
            raise invalid_params_error("currency", "must be one of " + ", ".join(CURRENCIES))
        return currency

    async def _public_get_currencies(self, call: Call, params: dict) -> list[dict]:
        """Every currency the platform knows, with its withdrawal terms (`public/get_currencies`,
        which takes no parameters)."""
        return [dict(details) for details in CURRENCY_DETAILS]

    async def _public_get_instruments(self, call: Call, params: dict) -> list[dict]:
        """`public/get_instruments`: every parameter is optional. `currency` (a currency or
        "any", the default) filters by the base currency, `kind` by the instrument kind,
        `expired=true` lists the recently expired instruments instead (none here)."""
        currency = param_text(params, "currency", "any")
        if currency not in CURRENCIES and currency != "any":
            raise invalid_params_error("currency", "must be one of " + ", ".join(CURRENCIES))
        kind = param_text(params, "kind")
        if kind is not None and kind not in INSTRUMENT_KINDS:
            raise invalid_params_error("kind", "must be one of " + ", ".join(INSTRUMENT_KINDS))
        if param_boolean(params, "expired"):
            return []
        return [
            self._instrument_data(info)
            for info in self.instruments.values()
            if (currency == "any" or info.base == currency or info.settle == currency)
            and (kind is None or instrument_kind(info) == kind)
        ]

    async def _public_get_instrument(self, call: Call, params: dict) -> dict:
        return self._instrument_data(self._info(params))

    async def _public_ticker(self, call: Call, params: dict) -> dict:
        info = self._info(params)
        return self._ticker_data(info, self.engine.ticker(VENUE, info.venue_symbol))

    async def _public_get_order_book(self, call: Call, params: dict) -> dict:
        info = self._info(params)
        depth = param_integer(params, "depth", self.options["book_depth_default"])
        if depth is None or depth < 1:
            raise invalid_params_error("depth", "must be a positive integer")
        bids, asks = self.engine.book(VENUE, info.venue_symbol, depth)
        result = self._ticker_data(info, self.engine.ticker(VENUE, info.venue_symbol))
        result["asks"] = [[p, s] for p, s in asks]
        result["bids"] = [[p, s] for p, s in bids]
        result["change_id"] = self._feed(info.venue_symbol).change_id
        return dict(sorted(result.items()))

    async def _public_get_last_trades_by_instrument(self, call: Call, params: dict) -> dict:
        info = self._info(params)
        count = param_integer(params, "count", 10) or 10
        trades = self.engine.recent_trades(VENUE, info.venue_symbol, min(count + 1, 1000))
        has_more = len(trades) > count
        trades = trades[:count]
        data = [self._public_trade_data(t) for t in trades]
        if param_text(params, "sorting", "desc") == "asc":
            data.reverse()
        return {"trades": data, "has_more": has_more}
