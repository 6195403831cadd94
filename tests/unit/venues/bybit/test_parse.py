"""Every recorded Bybit payload, parsed to exact normalized values.

Shared payloads: tests/fixtures/venues/bybit (SOURCES.md there); doc examples recorded for
this adapter: tests/fixtures/venues/bybit (SOURCES.md there). Stream-only payloads (books, auth
and subscription replies) are asserted through the sessions in test_public.py and
test_private.py.
"""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from exchanges.venues.base import (
    BalanceUpdate,
    BookSnapshot,
    FillEvent,
    InstrumentInfo,
    InstrumentKind,
    Liquidity,
    OptionType,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionUpdate,
    ProtocolError,
    Side,
    Ticker,
    TimeInForce,
    Trade,
    Venue,
)
from exchanges.venues.bybit import parse
from tests.plugins.venues import load_payload

RX = 42  # receive timestamp used throughout
MS = 1_000_000


def bybit_payload(name):
    return load_payload("bybit", name)


def at(exchange_ts, event):
    """`event` stamped with its message's time, as the stream and the REST client do (a
    ticker or wallet item carries no time of its own: parse leaves `exchange_ts` 0)."""
    assert event.exchange_ts == 0
    return replace(event, exchange_ts=exchange_ts)


# --------------------------------------------------------------------------- instruments


def test_linear_instruments():
    result = bybit_payload("rest_instruments_info_linear")["result"]
    assert parse.parse_instruments(result) == [
        InstrumentInfo(
            venue=Venue.BYBIT,
            venue_symbol="BTCUSDT",
            symbol="BTC/USDT:USDT",
            kind=InstrumentKind.PERPETUAL,
            base="BTC",
            quote="USDT",
            settle="USDT",
            linear=True,
            contract_size=D("1"),
            tick_size=D("0.5"),
            lot_size=D("0.001"),
            min_size=D("0.001"),
            min_notional=D("5"),
        ),
        InstrumentInfo(
            venue=Venue.BYBIT,
            venue_symbol="ETHUSDT",
            symbol="ETH/USDT:USDT",
            kind=InstrumentKind.PERPETUAL,
            base="ETH",
            quote="USDT",
            settle="USDT",
            linear=True,
            contract_size=D("1"),
            tick_size=D("0.05"),
            lot_size=D("0.01"),
            min_size=D("0.01"),
            min_notional=D("5"),
        ),
    ]


def test_spot_instruments():
    result = bybit_payload("rest_instruments_info_spot")["result"]
    btc, eth = parse.parse_instruments(result)
    assert btc == InstrumentInfo(
        venue=Venue.BYBIT,
        venue_symbol="BTCUSDT",
        symbol="BTC/USDT",
        kind=InstrumentKind.SPOT,
        base="BTC",
        quote="USDT",
        settle="USDT",
        linear=True,
        contract_size=D("1"),
        tick_size=D("0.1"),
        lot_size=D("0.0001"),
        min_size=D("0.001"),
        min_notional=D("10"),
    )
    assert (eth.symbol, eth.tick_size, eth.lot_size, eth.min_size, eth.min_notional) == (
        "ETH/USDT",
        D("0.01"),
        D("0.00001"),
        D("0.001"),
        D("10"),
    )


def test_docs_linear_spot_and_option_instruments():
    (linear,) = parse.parse_instruments(
        bybit_payload("rest_instruments_info_linear_docs")["result"]
    )
    assert (linear.symbol, linear.kind, linear.tick_size, linear.lot_size, linear.min_size) == (
        "BTC/USDT:USDT",
        InstrumentKind.PERPETUAL,
        D("0.10"),
        D("0.001"),
        D("0.001"),
    )
    assert linear.expiry_ts is None and linear.active
    (spot,) = parse.parse_instruments(bybit_payload("rest_instruments_info_spot_docs")["result"])
    assert (spot.symbol, spot.tick_size, spot.lot_size, spot.min_size, spot.min_notional) == (
        "BTC/USDT",
        D("0.1"),
        D("0.000001"),
        D("0.000011"),
        D("5"),
    )
    assert linear.min_notional == D("5")
    (option,) = parse.parse_instruments(
        bybit_payload("rest_instruments_info_option_docs")["result"]
    )
    assert option == InstrumentInfo(
        venue=Venue.BYBIT,
        venue_symbol="BTC-27MAR26-70000-P-USDT",
        symbol="BTC/USDT:USDT-260327-70000-P",
        kind=InstrumentKind.OPTION,
        base="BTC",
        quote="USDT",
        settle="USDT",
        linear=True,
        contract_size=D("1"),
        tick_size=D("5"),
        lot_size=D("0.01"),
        min_size=D("0.01"),
        expiry_ts=1774598400000 * MS,
        strike=D("70000"),
        option_type=OptionType.PUT,
    )


def test_inverse_and_future_instruments_from_contract_type():
    # The linear fixture's entry with its contractType/settle read as Bybit's other kinds.
    item = dict(bybit_payload("rest_instruments_info_linear")["result"]["list"][0])
    item.update(
        contractType="InverseFutures", quoteCoin="USD", settleCoin="BTC", symbol="BTCUSDH24"
    )
    future = parse.parse_instrument(item)
    assert (future.symbol, future.kind, future.linear, future.expiry_ts) == (
        "BTC/USD:BTC-231214",
        InstrumentKind.FUTURE,
        False,
        1702592000000 * MS,
    )
    assert future.inverse


# --------------------------------------------------------------------------- market data


def test_rest_orderbook():
    result = bybit_payload("rest_orderbook")["result"]
    assert parse.parse_book(result, "BTC/USDT:USDT", RX) == BookSnapshot(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        bids=(
            (D("27450.50"), D("1.500")),
            (D("27450.00"), D("2.000")),
            (D("27449.50"), D("0.750")),
        ),
        asks=(
            (D("27451.00"), D("1.200")),
            (D("27451.50"), D("3.000")),
            (D("27452.00"), D("0.500")),
        ),
        sequence=1234567,
        exchange_ts=1709891679000 * MS,
        receive_ts=RX,
    )


def test_ws_ticker_snapshot():
    message = bybit_payload("ws_tickers")
    ticker = at(message["ts"] * MS, parse.parse_ticker(message["data"], "BTC/USDT:USDT", RX))
    assert ticker == Ticker(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        best_bid=D("17215.50"),
        best_bid_size=D("84.489"),
        best_ask=D("17216.00"),
        best_ask_size=D("83.020"),
        last_price=D("17216.00"),
        exchange_ts=1673272861686 * MS,
        receive_ts=RX,
        mark_price=D("17217.33"),
        index_price=D("17227.36"),
        funding_rate=D("-0.000212"),
        open_interest=D("68744.761"),
        volume_24h=D("91705.276"),
    )


def test_rest_tickers_inverse_option_spot():
    payload = bybit_payload("rest_tickers_inverse_docs")
    inverse = at(
        payload["time"] * MS, parse.parse_ticker(payload["result"]["list"][0], "BTC/USD:BTC", RX)
    )
    assert inverse == Ticker(
        venue=Venue.BYBIT,
        symbol="BTC/USD:BTC",
        best_bid=D("103401.00"),
        best_bid_size=D("1063"),
        best_ask=D("109152.80"),
        best_ask_size=D("9854"),
        last_price=D("120635.50"),
        exchange_ts=1760352369814 * MS,
        receive_ts=RX,
        mark_price=D("114898.43"),
        index_price=D("114890.92"),
        funding_rate=D("0.0001"),
        open_interest=D("240113967"),
        volume_24h=D("13713832.0000"),
    )
    payload = bybit_payload("rest_tickers_option_docs")
    option = at(payload["time"] * MS, parse.parse_ticker(payload["result"]["list"][0], "X", RX))
    assert (option.best_bid, option.best_bid_size, option.best_ask, option.best_ask_size) == (
        None,
        D("0"),
        D("435"),
        D("0.66"),
    )
    assert (option.mark_price, option.index_price, option.funding_rate, option.open_interest) == (
        D("0.00000009"),
        D("16600.55"),
        None,
        D("6.3"),
    )
    payload = bybit_payload("rest_tickers_spot_docs")
    spot = at(
        payload["time"] * MS, parse.parse_ticker(payload["result"]["list"][0], "BTC/USDT", RX)
    )
    assert (spot.best_bid, spot.best_ask, spot.last_price, spot.index_price, spot.mark_price) == (
        D("20517.96"),
        D("20527.77"),
        D("20533.13"),
        D("20784.12009279"),
        None,
    )
    assert (spot.volume_24h, spot.exchange_ts) == (D("11801.27771"), 1673859087947 * MS)


def test_option_push_spelling_of_the_top_of_book():
    item = bybit_payload("rest_tickers_option_docs")["result"]["list"][0]
    renamed = {
        {"bid1Price": "bidPrice", "bid1Size": "bidSize", "ask1Price": "askPrice"}.get(k, k): v
        for k, v in item.items()
        if k != "ask1Size"
    }
    ticker = parse.parse_ticker({**renamed, "askSize": "0.66"}, "X", RX)
    assert (ticker.best_bid, ticker.best_bid_size, ticker.best_ask, ticker.best_ask_size) == (
        None,
        D("0"),
        D("435"),
        D("0.66"),
    )


def test_public_trade():
    (item,) = bybit_payload("ws_publicTrade")["data"]
    assert parse.parse_trade(item, "BTC/USDT:USDT", RX) == Trade(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        trade_id="9dc75fca-4bdd-4773-9f78-6f5d7ab2a110",
        price=D("27451.00"),
        quantity=D("0.010"),
        side=Side.BUY,
        exchange_ts=1709891679000 * MS,
        receive_ts=RX,
    )


# --------------------------------------------------------------------------- orders and fills


def test_open_orders():
    first, second = bybit_payload("rest_order_realtime")["result"]["list"]
    assert parse.parse_order(first, "ETH/USDT:USDT", RX) == OrderUpdate(
        venue=Venue.BYBIT,
        symbol="ETH/USDT:USDT",
        client_order_id="client-open-1",
        venue_order_id="open-order-1",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D("3930.41"),
        quantity=D("0.010"),
        filled_quantity=D("0"),
        average_price=None,
        status=OrderStatus.NEW,
        exchange_ts=1761355905606 * MS,
        receive_ts=RX,
    )
    order = parse.parse_order(second, "ETH/USDT:USDT", RX)
    assert (order.client_order_id, order.side, order.price, order.exchange_ts) == (
        "client-open-2",
        Side.SELL,
        D("3940.42"),
        1761355905609 * MS,
    )


def test_order_push_cancelled():
    (item,) = bybit_payload("ws_order")["data"]
    assert parse.parse_order(item, "BTC/USDT:USDT", RX) == OrderUpdate(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        client_order_id="client-1",
        venue_order_id="abcdef123456",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D("30000"),
        quantity=D("0.010"),
        filled_quantity=D("0"),
        average_price=None,
        status=OrderStatus.CANCELED,
        exchange_ts=1700000005000 * MS,
        receive_ts=RX,
    )


@pytest.mark.parametrize(
    ("wire", "tif", "status", "post_only"),
    [
        (
            {"orderStatus": "PartiallyFilled", "cumExecQty": "0.004"},
            TimeInForce.GTC,
            OrderStatus.PARTIALLY_FILLED,
            False,
        ),
        (
            {"orderStatus": "Filled", "cumExecQty": "0.010"},
            TimeInForce.GTC,
            OrderStatus.FILLED,
            False,
        ),
        (
            {"orderStatus": "Rejected", "timeInForce": "IOC"},
            TimeInForce.IOC,
            OrderStatus.REJECTED,
            False,
        ),
        (
            {"orderStatus": "Cancelled", "timeInForce": "PostOnly"},
            TimeInForce.GTC,
            OrderStatus.CANCELED,
            True,
        ),
        (
            {"orderStatus": "PartiallyFilledCanceled", "timeInForce": "FOK"},
            TimeInForce.FOK,
            OrderStatus.CANCELED,
            False,
        ),
        ({"orderStatus": "Created"}, TimeInForce.GTC, OrderStatus.PENDING_NEW, False),
    ],
)
def test_order_status_and_time_in_force_maps(wire, tif, status, post_only):
    (item,) = bybit_payload("ws_order")["data"]
    order = parse.parse_order({**item, **wire}, "BTC/USDT:USDT", RX)
    assert (order.time_in_force, order.status, order.post_only) == (tif, status, post_only)


def test_unknown_order_status_is_a_protocol_error():
    (item,) = bybit_payload("ws_order")["data"]
    with pytest.raises(ProtocolError):
        parse.parse_order({**item, "orderStatus": "Teleported"}, "BTC/USDT:USDT", RX)


def test_order_acks():
    ws = bybit_payload("ws_trade_order_create_response")
    assert parse.parse_order_ack(ws["data"]) == ("1726025498520715008", "client-order-1")
    rest = bybit_payload("rest_order_create_docs")
    assert parse.parse_order_ack(rest["result"]) == ("1321003749386327552", "spot-test-postonly")
    cancel = bybit_payload("rest_order_cancel_docs")
    assert parse.parse_order_ack(cancel["result"]) == (
        "c6f055d9-7f21-4079-913d-e6523a9cfffa",
        "linear-004",
    )


def test_execution_push():
    (item,) = bybit_payload("ws_execution")["data"]
    assert parse.is_trade_execution(item)
    assert parse.parse_fill(item, "BTC/USDT:USDT", RX) == FillEvent(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        trade_id="0ab1bdf7-4219-438b-b30a-32ec863018f7",
        venue_order_id="9aac161b-8ed6-450d-9cab-c5cc67c21784",
        client_order_id="test-order-link-001",
        side=Side.SELL,
        price=D("95900.1"),
        quantity=D("0.5"),
        fee=D("26.3725275"),
        fee_currency="USDT",
        liquidity=Liquidity.TAKER,
        exchange_ts=1746270400353 * MS,
        receive_ts=RX,
    )


def test_execution_list_docs():
    (item,) = bybit_payload("rest_execution_list_docs")["result"]["list"]
    fill = parse.parse_fill(item, "ETH/USDC:USDC", RX)
    assert fill == FillEvent(
        venue=Venue.BYBIT,
        symbol="ETH/USDC:USDC",
        trade_id="e0cbe81d-0f18-5866-9415-cf319b5dab3b",
        venue_order_id="8c065341-7b52-4ca9-ac2c-37e31ac55c94",
        client_order_id=None,
        side=Side.BUY,
        price=D("1190.15"),
        quantity=D("0.1"),
        fee=D("0.071409"),
        fee_currency="USDC",
        liquidity=Liquidity.TAKER,
        exchange_ts=1672282722429 * MS,
        receive_ts=RX,
    )


def test_spot_fee_currency_and_funding_rows():
    (item,) = bybit_payload("ws_execution")["data"]
    assert parse.fee_currency({**item, "side": "Buy"}, "BTC/USDT") == "BTC"
    assert parse.fee_currency({**item, "side": "Sell"}, "BTC/USDT") == "USDT"
    assert parse.fee_currency({**item, "feeCurrency": "MNT"}, "BTC/USDT") == "MNT"
    rebate = {**item, "isMaker": True, "feeRate": "-0.0001"}
    assert parse.fee_currency({**rebate, "side": "Buy"}, "BTC/USDT") == "USDT"
    assert parse.fee_currency({**rebate, "side": "Sell"}, "BTC/USDT") == "BTC"
    paid = {**item, "isMaker": True, "feeRate": "0.001"}
    assert parse.fee_currency({**paid, "side": "Buy"}, "BTC/USDT") == "BTC"
    assert not parse.is_trade_execution({**item, "execType": "Funding"})
    maker = parse.parse_fill({**item, "isMaker": True}, "BTC/USDT:USDT", RX)
    assert maker.liquidity is Liquidity.MAKER


# --------------------------------------------------------------------------- account


def test_rest_positions():
    btc, eth, sol = bybit_payload("rest_position_list")["result"]["list"]
    assert parse.parse_position(btc, "BTC/USDT:USDT", RX) == PositionUpdate(
        venue=Venue.BYBIT,
        symbol="BTC/USDT:USDT",
        quantity=D("0.5"),
        entry_price=D("50000.00"),
        exchange_ts=1697673600012 * MS,
        receive_ts=RX,
        mark_price=D("50500.00"),
        unrealized_pnl=D("250.00"),
        realized_pnl=D("500.00"),
        liquidation_price=D("45000.00"),
        leverage=D("10"),
    )
    short = parse.parse_position(eth, "ETH/USDT:USDT", RX)
    assert (short.quantity, short.entry_price, short.liquidation_price, short.realized_pnl) == (
        D("-5.0"),
        D("3000.00"),
        D("3500.00"),
        D("200.00"),
    )
    flat = parse.parse_position(sol, "SOL/USDT:USDT", RX)
    assert (flat.quantity, flat.entry_price, flat.liquidation_price, flat.mark_price) == (
        D("0"),
        None,
        None,
        D("150.00"),
    )


def test_ws_position():
    (item,) = bybit_payload("ws_position")["data"]
    assert parse.parse_position(item, "ETH/USDT:USDT", RX) == PositionUpdate(
        venue=Venue.BYBIT,
        symbol="ETH/USDT:USDT",
        quantity=D("-0.01"),
        entry_price=D("3641.075"),
        exchange_ts=1762199125472 * MS,
        receive_ts=RX,
        mark_price=D("3641.33"),
        unrealized_pnl=D("-0.00255"),
        realized_pnl=D("-25.06579337"),
        liquidation_price=D("51764.83003276"),
        leverage=D("30"),
    )


def test_rest_wallet_balance():
    payload = bybit_payload("rest_wallet_balance")
    balances = [
        at(payload["time"] * MS, b) for b in parse.parse_balances(payload["result"]["list"], RX)
    ]
    assert balances == [
        BalanceUpdate(Venue.BYBIT, "BTC", D("0"), D("0"), 1234567890 * MS, RX, D("0")),
        BalanceUpdate(Venue.BYBIT, "USDT", D("1000.50"), D("1000.50"), 1234567890 * MS, RX, D("0")),
        BalanceUpdate(Venue.BYBIT, "ETH", D("0"), D("0"), 1234567890 * MS, RX, D("0")),
    ]


def test_ws_wallet():
    message = bybit_payload("ws_wallet")
    balances = [
        at(message["creationTime"] * MS, b) for b in parse.parse_balances(message["data"], RX)
    ]
    ts = 1700034722104 * MS
    assert balances == [
        BalanceUpdate(
            Venue.BYBIT, "BTC", D("0.00102964"), D("0.00092964"), ts, RX, D("0.00010000")
        ),
        BalanceUpdate(
            Venue.BYBIT, "USDT", D("9647.75537647"), D("9519.89806037"), ts, RX, D("127.85731610")
        ),
    ]


def test_wallet_without_available_to_withdraw_uses_what_is_held():
    message = bybit_payload("ws_wallet")
    account = dict(message["data"][0])
    account["coin"] = [{**account["coin"][1], "availableToWithdraw": ""}]
    (usdt,) = parse.parse_balances([account], RX)
    assert (usdt.total, usdt.available, usdt.locked) == (
        D("9647.75537647"),
        D("9519.89806037"),
        D("127.85731610"),
    )


def test_every_recorded_payload_is_asserted_somewhere():
    """Each Bybit payload (shared, and recorded for the adapter) is loaded by one of these test
    modules. The simulator face's own `sim_*` recordings are used where they help, not required."""
    from pathlib import Path

    from tests.plugins.venues import payload_names

    here = Path(__file__).parent
    sources = "".join(p.read_text() for p in here.glob("test_*.py"))
    names = [n for n in payload_names("bybit") if not n.startswith("sim_")]
    missing = [n for n in names if f'"{n.removesuffix(".json")}"' not in sources]
    assert missing == []
