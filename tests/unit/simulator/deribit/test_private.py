"""Deribit private payloads (deribit/private.py)."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.deribit.private import _private_payloads

D = Decimal


def test_user_changes_payload_groups_per_instrument(face):
    channel = face._parse_channel("user.changes.future.BTC.raw")
    order = {"order_id": "1", "instrument_name": "BTC-PERPETUAL", "order_state": "open"}
    later = {"order_id": "1", "instrument_name": "BTC-PERPETUAL", "order_state": "filled"}
    trade = {"trade_id": "7", "instrument_name": "BTC-PERPETUAL"}
    position = {"instrument_name": "BTC-PERPETUAL", "size": D("10")}
    payloads = _private_payloads(
        channel,
        [("order", order), ("trade", trade), ("order", later), ("position", position)],
        True,
    )
    assert payloads == [
        {
            "trades": [trade],
            "positions": [position],
            "orders": [later],
            "instrument_name": "BTC-PERPETUAL",
        }
    ]
