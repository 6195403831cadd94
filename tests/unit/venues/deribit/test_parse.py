"""Every recorded Deribit payload parsed into exact normalized values."""

from decimal import Decimal

import pytest

from exchanges.venues.base import (
    AccountExecution,
    ExecutionKind,
    InstrumentKind,
    Liquidity,
    OptionType,
    OrderStatus,
    OrderType,
    ProtocolError,
    Side,
    TimeInForce,
    Venue,
)
from exchanges.venues.deribit import parse
from exchanges.venues.deribit.symbols import SymbolTable
from tests.plugins.venues import load_raw

D = Decimal
RECV = 1_700_000_000_123_456_789
MS = 1_000_000


def parsed(parse_function, raw):
    """`parse_function(raw, symbol, RECV)` given the unified symbol of the item's instrument
    name, as the stream and the REST client pass it (their `SymbolTable`)."""
    return parse_function(raw, SymbolTable().unified(raw["instrument_name"]), RECV)


def payload(name):
    return parse.loads(load_raw("deribit", name))


def test_loads_keeps_exact_decimals():
    decoded = parse.loads(
        '{"a": 0.30000000000000004, "b": 100000000.123456789, "c": 7, "d": 6.55e-6}'
    )
    assert decoded == {
        "a": D("0.30000000000000004"),
        "b": D("100000000.123456789"),
        "c": 7,
        "d": D("6.55e-6"),
    }
    assert str(decoded["b"]) == "100000000.123456789"
    assert parse.loads(b'{"x": 1.5}') == {"x": D("1.5")}
    with pytest.raises(ProtocolError):
        parse.loads("{not json")


def test_instruments_of_every_kind():
    result = payload("rest_get_instruments")["result"]
    infos = parse.parse_instruments(result)
    assert [i.venue_symbol for i in infos] == [
        "BTC-PERPETUAL",
        "BTC-27DEC24",
        "BTC-27DEC24-100000-C",
    ]  # BTC-COMBO-1 (future_combo) has no normalized kind
    perp, future, option = infos
    assert perp.venue is Venue.DERIBIT
    assert perp.symbol == "BTC/USD:BTC"
    assert perp.kind is InstrumentKind.PERPETUAL
    assert (perp.base, perp.quote, perp.settle, perp.linear) == ("BTC", "USD", "BTC", False)
    assert perp.inverse is True
    assert perp.contract_size == D("10.0")
    assert perp.tick_size == D("0.5")
    assert perp.lot_size == D("10.0")
    assert perp.min_size == D("10.0")
    assert perp.expiry_ts is None
    assert perp.active is True

    assert future.symbol == "BTC/USD:BTC-241227"
    assert future.kind is InstrumentKind.FUTURE
    assert future.expiry_ts == 1735300800000 * MS
    assert future.tick_size == D("0.5")
    assert future.contract_size == D("10.0")

    assert option.symbol == "BTC/USD:BTC-241227-100000-C"
    assert option.kind is InstrumentKind.OPTION
    assert option.quote == "USD"
    assert option.settle == "BTC"
    assert option.strike == D("100000.0")
    assert option.option_type is OptionType.CALL
    assert option.tick_size == D("0.0005")
    assert option.contract_size == D("1.0")
    assert option.min_size == D("0.1")
    assert option.lot_size == D("0.1")
    assert option.expiry_ts == 1735300800000 * MS


def test_linear_and_spot_instruments():
    linear = parse.parse_instrument(
        {
            "instrument_name": "BTC_USDC-PERPETUAL",
            "kind": "future",
            "settlement_period": "perpetual",
            "instrument_type": "linear",
            "base_currency": "BTC",
            "counter_currency": "USDC",
            "quote_currency": "USDC",
            "settlement_currency": "USDC",
            "contract_size": D("0.001"),
            "tick_size": D("1.0"),
            "min_trade_amount": D("0.001"),
            "expiration_timestamp": 32503708800000,
            "is_active": True,
        }
    )
    assert linear.symbol == "BTC/USDC:USDC"
    assert linear.linear is True
    assert linear.kind is InstrumentKind.PERPETUAL
    assert linear.contract_size == D("0.001")


def test_server_time_and_test():
    assert parse.parse_server_time(payload("rest_get_time")["result"]) == 1733338800000 * MS
    assert payload("rest_test")["result"] == {"version": "1.2.26"}


def test_rest_order_book():
    book = parsed(parse.parse_book, payload("rest_get_order_book")["result"])
    assert book.symbol == "BTC/USD:BTC"
    assert book.sequence == 133112427566
    assert book.exchange_ts == 1766554855140 * MS
    assert book.receive_ts == RECV
    assert len(book.bids) == 20 and len(book.asks) == 20
    assert book.bids[0] == (D("87002.5"), D("199190.0"))
    assert book.bids[-1] == (D("86980.0"), D("100.0"))
    assert book.asks[0] == (D("87003.0"), D("125090.0"))
    assert book.asks[-1] == (D("87031.5"), D("32930.0"))


def test_ticker_notification():
    data = payload("ws_ticker")["params"]["data"]
    ticker = parsed(parse.parse_ticker, data)
    assert ticker.symbol == "BTC/USD:BTC"
    assert ticker.best_bid == D("92283.5")
    assert ticker.best_bid_size == D("117660.0")
    assert ticker.best_ask == D("92284.0")
    assert ticker.best_ask_size == D("186520.0")
    assert ticker.last_price == D("92283.5")
    assert ticker.mark_price == D("92281.78")
    assert ticker.index_price == D("92263.55")
    assert ticker.funding_rate == D("0.00001742")
    assert ticker.open_interest == D("1132329370.0")
    assert ticker.volume_24h == D("11897.27640428")
    assert ticker.exchange_ts == 1765541474086 * MS
    assert ticker.receive_ts == RECV


def test_trades_notification():
    data = payload("ws_trades")["params"]["data"]
    first, second = (parsed(parse.parse_trade, item) for item in data)
    assert first.trade_id == "403691824"
    assert first.symbol == "BTC/USD:BTC"
    assert first.price == D("92294.5")
    assert first.quantity == D("10.0")
    assert first.side is Side.SELL
    assert first.exchange_ts == 1765531356452 * MS
    assert second.trade_id == "403691825"
    assert second.price == D("92288.5")
    assert second.quantity == D("750.0")


def test_book_notification_levels():
    snapshot = payload("ws_book_snapshot")["params"]["data"]
    assert parse.ws_levels(snapshot["bids"])[:2] == (
        (D("42500.0"), D("1000.0")),
        (D("42499.5"), D("500.0")),
    )
    change = payload("ws_book_change")["params"]["data"]
    assert parse.ws_levels(change["asks"]) == (
        (D("42501.0"), D("0.0")),
        (D("42501.5"), D("700.0")),
    )


def test_buy_response_order():
    order = parsed(parse.parse_order, payload("rest_buy_response")["result"]["order"])
    assert order.venue is Venue.DERIBIT
    assert order.symbol == "ETH/USDC:USDC"
    assert order.client_order_id == "O-19700101-000000-001-001-1"
    assert order.venue_order_id == "USDC-104819327443"
    assert order.side is Side.BUY
    assert order.order_type is OrderType.LIMIT
    assert order.time_in_force is TimeInForce.GTC
    assert order.price == D("2973.55")
    assert order.quantity == D("0.001")
    assert order.filled_quantity == D("0.0")
    assert order.average_price is None
    assert order.status is OrderStatus.NEW
    assert order.exchange_ts == 1767978363493 * MS
    assert order.post_only is True
    assert order.reduce_only is False
    assert order.reject_reason == ""


def test_edit_response_order():
    order = parsed(parse.parse_order, payload("rest_edit_response")["result"]["order"])
    assert order.price == D("3067.2")
    assert order.status is OrderStatus.NEW
    assert order.exchange_ts == 1767978368488 * MS


def test_cancel_response_order():
    order = parsed(parse.parse_order, payload("rest_cancel_response")["result"])
    assert order.status is OrderStatus.CANCELED
    assert order.reject_reason == "user_request"
    assert order.price == D("3067.2")
    assert order.exchange_ts == 1767978373490 * MS


def test_user_orders_notification():
    order = parsed(parse.parse_order, payload("ws_user_orders_docs")["params"]["data"])
    assert order.symbol == "BTC/USD:BTC"
    assert order.client_order_id is None  # label ""
    assert order.venue_order_id == "6"
    assert order.price == D("10542.68")
    assert order.quantity == D(200)
    assert order.status is OrderStatus.NEW
    assert order.exchange_ts == 1581507583024 * MS


def test_order_status_map():
    assert parse.order_status("open", D(0)) is OrderStatus.NEW
    assert parse.order_status("open", D(10)) is OrderStatus.PARTIALLY_FILLED
    assert parse.order_status("filled", D(10)) is OrderStatus.FILLED
    assert parse.order_status("rejected", D(0)) is OrderStatus.REJECTED
    assert parse.order_status("cancelled", D(10)) is OrderStatus.CANCELED
    assert parse.order_status("untriggered", D(0)) is OrderStatus.UNTRIGGERED
    assert parse.order_status("triggered", D(0)) is OrderStatus.NEW
    assert parse.order_status("archive", D(0)) is OrderStatus.CANCELED
    with pytest.raises(ProtocolError):
        parse.order_status("weird", D(0))


def test_user_trades_notification():
    fills = [parsed(parse.parse_fill, t) for t in payload("ws_user_trades_docs")["params"]["data"]]
    first = fills[0]
    assert first.trade_id == "48079254"
    assert first.venue_order_id == "4008965646"
    assert first.client_order_id is None
    assert first.symbol == "BTC/USD:BTC"
    assert first.side is Side.SELL
    assert first.price == D(8954)
    assert first.quantity == D(20)
    assert first.fee == D("0.00000168")
    assert first.fee_currency == "BTC"
    assert first.liquidity is Liquidity.TAKER
    assert first.exchange_ts == 1590484156350 * MS
    assert fills[1].trade_id == "48079255"


def test_user_changes_positions_and_trades():
    data = payload("ws_user_changes_docs")["params"]["data"]
    position = parsed(parse.parse_position, data["positions"][0])
    assert position.symbol == "BTC/USD:BTC"
    assert position.quantity == D(185160)
    assert position.entry_price == D(15000)
    assert position.mark_price == D(17391)
    assert position.unrealized_pnl == D("0.906961435")
    assert position.realized_pnl == D("0.012454598")
    assert position.leverage == D(33)
    assert position.liquidation_price is None
    fill = parsed(parse.parse_fill, data["trades"][0])
    assert fill.fee == D("1.6e-7")
    assert fill.quantity == D(10)


def test_positions_response():
    (position,) = [parsed(parse.parse_position, p) for p in payload("rest_get_positions")["result"]]
    assert position.quantity == D(50)
    assert position.entry_price == D("7440.18")
    assert position.mark_price == D("7476.65")
    assert position.unrealized_pnl == D(0)
    assert position.realized_pnl == D("-9e-9")
    assert position.leverage == D("35.639422")
    assert position.exchange_ts == RECV


def test_account_summaries_balances():
    summaries = payload("rest_get_account_summaries")["result"]["summaries"]
    (btc,), (eth,) = (parse.parse_balances(s, RECV) for s in summaries)
    assert btc.currency == "BTC"
    assert btc.total == D("302.61869214")
    assert btc.available == D("301.38059622")
    assert btc.locked == D("1.23809592")
    assert eth.currency == "ETH"
    assert eth.total == D(100)
    assert eth.available == D("99.999598")
    assert eth.locked == D("0.000402")


def test_portfolio_notification_balance():
    (balance,) = parse.parse_balances(payload("ws_user_portfolio")["params"]["data"], RECV)
    assert balance.currency == "USDT"
    assert balance.total == D("55.00055")
    assert balance.available == D("53.868247")
    assert balance.locked == D("1.132303")


def test_market_order_price_is_none():
    item = {
        "instrument_name": "BTC-PERPETUAL",
        "order_id": "9",
        "direction": "sell",
        "order_type": "market",
        "price": "market_price",
        "amount": 10,
        "filled_amount": 10,
        "average_price": D("42000.5"),
        "order_state": "filled",
        "last_update_timestamp": 5,
        "time_in_force": "immediate_or_cancel",
    }
    order = parsed(parse.parse_order, item)
    assert order.price is None
    assert order.order_type is OrderType.MARKET
    assert order.time_in_force is TimeInForce.IOC
    assert order.average_price == D("42000.5")
    assert order.status is OrderStatus.FILLED


def test_a_trade_where_our_own_side_was_liquidated_is_an_account_execution():
    """`user.trades` items of the documented example (`ws_user_trades_docs`) with the
    `liquidation` field of docs "private/get_user_trades_by_currency" ("M": the maker side was
    under liquidation, "T": the taker side, "MT": both). Ours is the `liquidity` side: a taker
    trade with "T" liquidated us, one with "M" liquidated the other side (a fill of ours)."""
    first, second = payload("ws_user_trades_docs")["params"]["data"]
    assert (first["liquidity"], second["liquidity"]) == ("T", "T")
    ours = {**first, "liquidation": "T"}
    theirs = {**second, "liquidation": "M"}
    assert parse.execution_kind(ours) is ExecutionKind.LIQUIDATION
    assert parse.execution_kind({**first, "liquidation": "MT"}) is ExecutionKind.LIQUIDATION
    assert parse.execution_kind(theirs) is None
    assert parse.execution_kind(first) is None
    assert parsed(parse.parse_account_execution, ours) == AccountExecution(
        venue=Venue.DERIBIT,
        symbol="BTC/USD:BTC",
        kind=ExecutionKind.LIQUIDATION,
        execution_id="48079254",
        amount=D("-0.00000168"),
        currency="BTC",
        exchange_ts=1590484156350 * 1_000_000,
        receive_ts=RECV,
        quantity=D(-20),
        price=D(8954),
    )


def test_settlement_history_entries_are_account_executions():
    """Entries in the shape of docs "private/get_settlement_history_by_currency" (its response
    example's fields): a perpetual's settlement books the session PnL, a future's delivery
    closes the position at the mark price."""
    settlement = parse.loads(
        '{"type": "settlement", "timestamp": 1550475692526, "session_profit_loss": 0.038358299,'
        ' "profit_loss": -0.001783937, "position": -66, "mark_price": 121.67,'
        ' "instrument_name": "BTC-PERPETUAL", "index_price": 119.8, "funding": 0.0000015}'
    )
    delivery = {**settlement, "type": "delivery", "instrument_name": "BTC-27DEC24"}
    assert parsed(parse.parse_account_execution, settlement) == AccountExecution(
        venue=Venue.DERIBIT,
        symbol="BTC/USD:BTC",
        kind=ExecutionKind.SETTLEMENT,
        execution_id="settlement:BTC-PERPETUAL:1550475692526",
        amount=D("0.038358299"),
        currency="BTC",
        exchange_ts=1550475692526 * 1_000_000,
        receive_ts=RECV,
    )
    delivered = parsed(parse.parse_account_execution, delivery)
    assert (delivered.kind, delivered.symbol, delivered.amount, delivered.quantity) == (
        ExecutionKind.DELIVERY,
        "BTC/USD:BTC-241227",
        D("-0.001783937"),
        D(66),
    )
    assert delivered.price == D("121.67")
    assert parse.execution_kind({**settlement, "type": "bankruptcy"}) is None
