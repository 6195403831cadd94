"""Every recorded OKX payload, parsed into exact normalized values."""

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
from exchanges.venues.numbers import levels
from exchanges.venues.okx.parse import (
    book_checksum,
    fill_fee,
    order_fill,
    parse_balances,
    parse_book,
    parse_fill,
    parse_funding_rate,
    parse_instrument,
    parse_order,
    parse_position,
    parse_ticker,
    parse_trade,
)
from tests.plugins.venues import load_payload, payload_names

RX = 123  # receive timestamp handed to the parsers
OKX = Venue.OKX


def data(name: str) -> list[dict]:
    return load_payload("okx", name)["data"]


def instrument(name: str, index: int) -> InstrumentInfo:
    return parse_instrument(data(name)[index])


def test_every_recorded_payload_is_covered_here():
    covered = {
        "checksum_examples_docs.json",
        "rest_account_balance.json",
        "rest_fills_docs.json",
        "rest_instruments_futures.json",
        "rest_instruments_option.json",
        "rest_instruments_spot.json",
        "rest_instruments_swap.json",
        "rest_order_book.json",
        "rest_orders_pending.json",
        "rest_cancel_algo_order_response.json",  # test_rest.py: cancel of a conditional
        "rest_amend_algo_order_docs.json",  # test_algo_amend.py: amend of a conditional
        "rest_orders_algo_pending_close_fraction.json",
        "rest_place_algo_order_rejected.json",  # test_rest.py: per-item sCode 51000
        "rest_place_algo_order_response.json",  # test_rest.py: conditional placement ack
        "rest_place_order_response_item.json",  # test_rest.py: placement ack
        "rest_positions.json",
        "signing_example_rest.json",  # test_auth.py
        "ws_account.json",
        "ws_bbo_tbt.json",  # test_public.py (snapshot-only channel)
        "ws_books_snapshot.json",  # here and test_public.py
        "ws_books_update.json",  # test_public.py
        "ws_funding_rate.json",
        "ws_orders.json",
        "ws_orders_algo_child_filled.json",
        "ws_orders_liquidation_shape.json",  # test_private.py: a venue-made order
        "ws_tickers.json",
        "ws_trades.json",
    }
    assert set(payload_names("okx")) <= covered


# --------------------------------------------------------------------------- instruments


def test_spot_instrument():
    assert instrument("rest_instruments_spot", 0) == InstrumentInfo(
        venue=OKX,
        venue_symbol="BTC-USD",
        symbol="BTC/USD",
        kind=InstrumentKind.SPOT,
        base="BTC",
        quote="USD",
        settle="USD",
        linear=True,
        contract_size=D("1"),
        tick_size=D("0.1"),
        lot_size=D("0.00000001"),
        min_size=D("0.00001"),
    )


@pytest.mark.parametrize(
    ("index", "venue_symbol", "symbol", "tick", "lot", "min_size"),
    [
        (1, "ETH-USD", "ETH/USD", "0.01", "0.000001", "0.0001"),
        (2, "SOL-USD", "SOL/USD", "0.01", "0.000001", "0.001"),
        (3, "XRP-USD", "XRP/USD", "0.0001", "0.000001", "1"),
        (4, "USDT-USD", "USDT/USD", "0.0001", "0.0001", "1"),
    ],
)
def test_other_spot_instruments(index, venue_symbol, symbol, tick, lot, min_size):
    info = instrument("rest_instruments_spot", index)
    assert (info.venue_symbol, info.symbol, info.tick_size, info.lot_size, info.min_size) == (
        venue_symbol,
        symbol,
        D(tick),
        D(lot),
        D(min_size),
    )
    assert info.kind is InstrumentKind.SPOT and info.active


def test_inverse_perpetual():
    assert instrument("rest_instruments_swap", 0) == InstrumentInfo(
        venue=OKX,
        venue_symbol="BTC-USD-SWAP",
        symbol="BTC/USD:BTC",
        kind=InstrumentKind.PERPETUAL,
        base="BTC",
        quote="USD",
        settle="BTC",
        linear=False,
        contract_size=D("100"),
        tick_size=D("0.1"),
        lot_size=D("1"),
        min_size=D("1"),
    )
    assert instrument("rest_instruments_swap", 0).inverse


@pytest.mark.parametrize(
    ("index", "venue_symbol", "symbol", "contract", "tick", "lot"),
    [
        (1, "ETH-USDT-SWAP", "ETH/USDT:USDT", "0.1", "0.01", "0.01"),
        (2, "BTC-USDT-SWAP", "BTC/USDT:USDT", "0.01", "0.1", "0.01"),
    ],
)
def test_linear_perpetuals(index, venue_symbol, symbol, contract, tick, lot):
    info = instrument("rest_instruments_swap", index)
    assert (info.venue_symbol, info.symbol, info.contract_size, info.tick_size, info.lot_size) == (
        venue_symbol,
        symbol,
        D(contract),
        D(tick),
        D(lot),
    )
    assert info.linear and info.settle == "USDT" and info.expiry_ts is None


def test_inverse_future():
    assert instrument("rest_instruments_futures", 1) == InstrumentInfo(
        venue=OKX,
        venue_symbol="BTC-USD-241227",
        symbol="BTC/USD:BTC-241227",
        kind=InstrumentKind.FUTURE,
        base="BTC",
        quote="USD",
        settle="BTC",
        linear=False,
        contract_size=D("100"),
        tick_size=D("0.1"),
        lot_size=D("1"),
        min_size=D("1"),
        expiry_ts=1735286400000 * 1_000_000,
    )


def test_every_future_expiry_matches_its_id():
    for raw in data("rest_instruments_futures"):
        info = parse_instrument(raw)
        assert info.symbol == f"BTC/USD:BTC-{raw['instId'].split('-')[2]}"
        assert info.expiry_ts == int(raw["expTime"]) * 1_000_000


def test_option_contract_size_is_value_times_multiplier():
    assert instrument("rest_instruments_option", 1) == InstrumentInfo(
        venue=OKX,
        venue_symbol="BTC-USD-241217-92000-P",
        symbol="BTC/USD:BTC-241217-92000-P",
        kind=InstrumentKind.OPTION,
        base="BTC",
        quote="USD",
        settle="BTC",
        linear=False,
        contract_size=D("0.01"),
        tick_size=D("0.0001"),
        lot_size=D("1"),
        min_size=D("1"),
        expiry_ts=1734422400000 * 1_000_000,
        strike=D("92000"),
        option_type=OptionType.PUT,
    )
    call = instrument("rest_instruments_option", 2)
    assert (call.symbol, call.option_type, call.strike) == (
        "BTC/USD:BTC-241217-94000-C",
        OptionType.CALL,
        D("94000"),
    )


# --------------------------------------------------------------------------- market data


def test_rest_order_book():
    book = parse_book(data("rest_order_book")[0], "BTC/USDT", RX)
    assert book == BookSnapshot(
        venue=OKX,
        symbol="BTC/USDT",
        bids=(
            (D("41006.7"), D("0.48792100")),
            (D("41006.6"), D("0.23970000")),
            (D("41006.5"), D("1.12500000")),
        ),
        asks=(
            (D("41006.8"), D("0.60038921")),
            (D("41006.9"), D("0.30178218")),
            (D("41007.0"), D("2.05842530")),
        ),
        sequence=-1,  # this recording predates the seqId field
        exchange_ts=1704067200000 * 1_000_000,
        receive_ts=RX,
    )


def test_ws_books_snapshot_levels_and_sequence():
    item = load_payload("okx", "ws_books_snapshot")["data"][0]
    book = parse_book(item, "BTC/USDT", RX)
    assert book.sequence == 123456
    assert book.bids[0] == (D("8476.97"), D("256"))
    assert book.bids[-1] == (D("8446"), D("95"))
    assert book.asks[0] == (D("8476.98"), D("415"))
    assert book.asks[-1] == (D("8506.96"), D("100"))
    assert len(book.bids) == len(book.asks) == 8
    assert book.exchange_ts == 1597026383085 * 1_000_000


def test_checksum_reproduces_the_documented_examples():
    for example in load_payload("okx", "checksum_examples_docs")["examples"]:
        bids = levels(example["bids"])
        asks = levels(example["asks"])
        assert book_checksum(bids, asks) == example["checksum"]


def test_checksum_uses_the_wire_text_and_only_25_levels():
    bids = [(D("100.10"), D("0.00000001"))] + [(D(100 - i), D(1)) for i in range(1, 30)]
    asks = [(D("101.5"), D("2.50"))]
    full = book_checksum(bids, asks)
    assert full == book_checksum(bids[:25], asks)
    assert full != book_checksum([(D("100.1"), D("0.00000001")), *bids[1:]], asks)


def test_ticker():
    ticker = parse_ticker(data("ws_tickers")[0], "BTC/USDT", RX)
    assert ticker == Ticker(
        venue=OKX,
        symbol="BTC/USDT",
        best_bid=D("8888.88"),
        best_bid_size=D("5"),
        best_ask=D("9999.99"),
        best_ask_size=D("11"),
        last_price=D("9999.99"),
        exchange_ts=1597026383085 * 1_000_000,
        receive_ts=RX,
        volume_24h=D("2222"),
    )


def test_trade():
    assert parse_trade(data("ws_trades")[0], "BTC/USD", RX) == Trade(
        venue=OKX,
        symbol="BTC/USD",
        trade_id="130639474",
        price=D("42219.9"),
        quantity=D("0.12060306"),
        side=Side.BUY,
        exchange_ts=1630048897897 * 1_000_000,
        receive_ts=RX,
    )


def test_trade_with_unknown_side_is_a_protocol_error():
    raw = {**data("ws_trades")[0], "side": "up"}
    with pytest.raises(ProtocolError):
        parse_trade(raw, "BTC/USD", RX)


def test_funding_rate():
    ticker = parse_funding_rate(data("ws_funding_rate")[0], "BTC/USDT:USDT", RX)
    assert ticker.funding_rate == D("0.0001")
    assert ticker.exchange_ts == 1744590349506 * 1_000_000
    assert (ticker.best_bid, ticker.best_ask, ticker.last_price) == (None, None, None)


# --------------------------------------------------------------------------- orders and fills


def test_pending_limit_order():
    assert parse_order(data("rest_orders_pending")[0], "BTC/USDT:USDT", RX) == OrderUpdate(
        venue=OKX,
        symbol="BTC/USDT:USDT",
        client_order_id="client-order-1",
        venue_order_id="1234567890123456789",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=D("103500"),
        quantity=D("0.10"),
        filled_quantity=D("0"),
        average_price=None,
        status=OrderStatus.NEW,
        exchange_ts=1746947317000 * 1_000_000,
        receive_ts=RX,
    )


def test_filled_market_order_push():
    assert parse_order(data("ws_orders")[0], "BTC/USDT:USDT", RX) == OrderUpdate(
        venue=OKX,
        symbol="BTC/USDT:USDT",
        client_order_id="001BTCUSDT20250106001",
        venue_order_id="2497956918703120384",
        side=Side.BUY,
        order_type=OrderType.MARKET,
        time_in_force=TimeInForce.IOC,
        price=None,
        quantity=D("0.03"),
        filled_quantity=D("0.03"),
        average_price=D("103698.9"),
        status=OrderStatus.FILLED,
        exchange_ts=1746947317402 * 1_000_000,
        receive_ts=RX,
    )


def test_fill_carried_by_the_order_push():
    raw = data("ws_orders")[0]
    fee = fill_fee(raw, None)
    assert fee == D("0.021776769")  # OKX's -0.021776769 charged = 0.021776769 paid
    assert order_fill(raw, "BTC/USDT:USDT", RX, fee) == FillEvent(
        venue=OKX,
        symbol="BTC/USDT:USDT",
        trade_id="1518905529",
        venue_order_id="2497956918703120384",
        client_order_id="001BTCUSDT20250106001",
        side=Side.BUY,
        price=D("103698.9"),
        quantity=D("0.03"),
        fee=D("0.021776769"),
        fee_currency="USDT",
        liquidity=Liquidity.MAKER,
        exchange_ts=1746947317402 * 1_000_000,
        receive_ts=RX,
    )


def test_fill_fee_prefers_the_fills_own_fee_then_the_change_of_the_accumulated_one():
    raw = data("ws_orders")[0]
    assert fill_fee({**raw, "fillFee": "-0.5"}, D("-0.1")) == D("0.5")
    assert fill_fee(raw, D("-0.001776769")) == D("0.020000000")
    assert fill_fee({**raw, "fee": "0.003"}, None) == D("-0.003")  # a maker rebate


def test_order_push_without_a_fill_has_no_fill_event():
    raw = {**data("ws_orders")[0], "fillSz": "0", "tradeId": ""}
    assert order_fill(raw, "BTC/USDT:USDT", RX, D(0)) is None


def test_post_only_cancel_is_explained():
    raw = {
        **data("rest_orders_pending")[0],
        "state": "canceled",
        "ordType": "post_only",
        "cancelSource": "31",
    }
    update = parse_order(raw, "BTC/USDT:USDT", RX)
    assert update.status is OrderStatus.CANCELED
    assert update.post_only
    assert update.reject_reason == "post-only order would have taken liquidity"


def test_unknown_order_state_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        parse_order({**data("rest_orders_pending")[0], "state": "weird"}, "X/Y", RX)


def test_rest_fill_from_the_docs():
    assert parse_fill(data("rest_fills_docs")[0], "BTC/USDT", RX) == FillEvent(
        venue=OKX,
        symbol="BTC/USDT",
        trade_id="744876980",
        venue_order_id="680800019749904384",
        client_order_id=None,
        side=Side.BUY,
        price=D("51858"),
        quantity=D("0.00192834"),
        fee=D("0.00000192834"),
        fee_currency="BTC",
        liquidity=Liquidity.TAKER,
        exchange_ts=1708587373361 * 1_000_000,
        receive_ts=RX,
    )


# --------------------------------------------------------------------------- account


def test_position():
    assert parse_position(data("rest_positions")[0], "BTC/USDT:USDT", RX) == PositionUpdate(
        venue=OKX,
        symbol="BTC/USDT:USDT",
        quantity=D("0.5"),
        entry_price=D("10000"),
        exchange_ts=1622559930237 * 1_000_000,
        receive_ts=RX,
        mark_price=D("10000"),
        unrealized_pnl=D("0"),
        realized_pnl=D("0"),
        liquidation_price=D("9000"),
        leverage=D("10.0"),
    )


def test_short_and_net_positions_are_signed():
    raw = data("rest_positions")[0]
    assert parse_position({**raw, "posSide": "short"}, "S", RX).quantity == D("-0.5")
    assert parse_position({**raw, "posSide": "net", "pos": "-3"}, "S", RX).quantity == D("-3")


def test_rest_balances():
    assert parse_balances(data("rest_account_balance")[0], RX) == [
        BalanceUpdate(
            venue=OKX,
            currency="USDT",
            total=D("99.89469657000001"),
            available=D("94.42612990333333"),
            exchange_ts=1744498994783 * 1_000_000,
            receive_ts=RX,
            locked=D("5.468566666666667"),
        )
    ]


def test_ws_account_balances():
    balances = parse_balances(data("ws_account")[0], RX)
    assert [(b.currency, b.total, b.available, b.locked, b.exchange_ts) for b in balances] == [
        (
            "USDT",
            D("100.52768569797846"),
            D("100.52768569797846"),
            D("0"),
            1751526647084 * 1_000_000,
        ),
        ("BTC", D("0.0000000051"), D("0.0000000051"), D("0"), 1746947295126 * 1_000_000),
        ("ETH", D("0.000000185"), D("0.000000185"), D("0"), 1746947229325 * 1_000_000),
    ]


def test_zero_available_balance_is_zero_not_the_fallback():
    raw = {
        "details": [
            {
                "ccy": "USDT",
                "eq": "0",
                "cashBal": "5",
                "availBal": "0",
                "availEq": "7",
                "frozenBal": "0",
                "uTime": "1",
            }
        ]
    }
    (balance,) = parse_balances(raw, RX)
    assert (balance.total, balance.available) == (D("0"), D("0"))


def test_bills_of_funding_and_liquidation_are_account_executions():
    """Bills in the documented shape of docs-v5 "Trading Account > Get bills details (last 7
    days)" (its response example, with `type` 8 funding fee and 5 liquidation of the bill type
    table); a trade bill (type 2) is none."""
    from exchanges.venues.base import AccountExecution, ExecutionKind
    from exchanges.venues.okx.parse import execution_kind, parse_account_execution

    bill = {
        "bal": "8694.2179403378290202",
        "balChg": "-0.0219338232210000",
        "billId": "623950854533513219",
        "ccy": "USDT",
        "clOrdId": "",
        "execType": "",
        "fee": "0",
        "fillTime": "",
        "instId": "BTC-USDT-SWAP",
        "instType": "SWAP",
        "interest": "0",
        "mgnMode": "cross",
        "notes": "",
        "ordId": "",
        "pnl": "0",
        "posBal": "0",
        "posBalChg": "0",
        "px": "",
        "subType": "173",
        "sz": "0.03",
        "tag": "",
        "tradeId": "",
        "ts": "1695033476167",
        "type": "8",
    }
    assert execution_kind({**bill, "type": "2"}) is None
    assert parse_account_execution(bill, "BTC/USDT:USDT", 7) == AccountExecution(
        venue=Venue.OKX,
        symbol="BTC/USDT:USDT",
        kind=ExecutionKind.FUNDING,
        execution_id="623950854533513219",
        amount=D("-0.0219338232210000"),
        currency="USDT",
        exchange_ts=1695033476167 * 1_000_000,
        receive_ts=7,
    )
    liquidation = parse_account_execution({**bill, "type": "5"}, "BTC/USDT:USDT", 7)
    assert (liquidation.kind, liquidation.quantity, liquidation.price) == (
        ExecutionKind.LIQUIDATION,
        D(0),
        None,
    )
