"""A full order life over real sockets: place, partial fill by a second account's order, amend,
cancel; with the private pushes and book changes Deribit sends, and the book's change_id chain
verified on the receiving side. Then the private-push and acknowledgement faults."""

import asyncio
import time
from decimal import Decimal

import aiohttp
import pytest

from exchanges.simulator.engine.records import MAKER_ACCOUNT
from tests.plugins.venues import load_payload
from tests.support.deribit import (
    SECOND,
    VENUE,
    ChainedBook,
    Ws,
    assert_conforms,
    basic_header,
)
from tests.support.harness import DROPPED, eventually

D = Decimal
INSTRUMENT = "BTC-PERPETUAL"
BOOK = f"book.{INSTRUMENT}.raw"
ORDERS = f"user.orders.{INSTRUMENT}.raw"
TRADES = f"user.trades.{INSTRUMENT}.raw"
CHANGES = f"user.changes.{INSTRUMENT}.raw"
ORDERS_BY_KIND = "user.orders.future.BTC.100ms"
PORTFOLIO = "user.portfolio.btc"
# keys the documentation examples (older API generation) and the live captures disagree on
ORDER_GENERATIONS = {
    "contracts",
    "mmp",
    "risk_reducing",
    "user_id",
    "web",
    "max_show",
    "is_rebalance",
    "original_order_type",
    "reject_post_only",
    "cancel_reason",
}
TRADE_GENERATIONS = {"api", "contracts", "mmp", "risk_reducing", "profit_loss", "label"}
POSITION_GENERATIONS = {"estimated_liquidation_price", "open_orders_margin", "realized_funding"}


async def _best(http) -> tuple[D, D]:
    _, answer = await http.get("public/get_order_book", {"instrument_name": INSTRUMENT, "depth": 1})
    return answer["result"]["bids"][0][0], answer["result"]["asks"][0][0]


async def test_full_order_life(deribit, session, urls, http):
    demo = deribit.credentials[VENUE]
    best_bid, best_ask = await _best(http)
    assert best_ask - best_bid >= D("1.5")  # room for two ticks inside the spread
    bid = best_bid + D("1")
    amended = best_bid + D("0.5")

    ws = await Ws.connect(session, urls["ws_private"])
    book = ChainedBook()
    try:
        await ws.login(demo)
        channels = [BOOK, ORDERS, TRADES, CHANGES, ORDERS_BY_KIND, PORTFOLIO]
        assert await ws.result("private/subscribe", {"channels": channels}) == channels
        await ws.channel(BOOK)

        # place: a post-only bid that becomes the best bid
        placed = await ws.result(
            "private/buy",
            {
                "instrument_name": INSTRUMENT,
                "amount": 1000,
                "price": bid,
                "label": "life-1",
                "post_only": True,
            },
        )
        order = placed["order"]
        assert placed["trades"] == []
        assert (order["order_state"], order["price"], order["amount"], order["label"]) == (
            "open",
            bid,
            1000,
            "life-1",
        )
        assert order["contracts"] == 100 and order["post_only"] is True
        assert_conforms(placed, load_payload("deribit", "rest_buy_response")["result"])
        accepted = await ws.channel(ORDERS)
        assert accepted["params"]["data"]["order_state"] == "open"
        assert accepted["params"]["data"]["label"] == "life-1"
        assert_conforms(
            accepted["params"]["data"],
            load_payload("deribit", "rest_buy_response")["result"]["order"],
        )
        assert_conforms(accepted, load_payload("deribit", "ws_user_orders_docs"), ORDER_GENERATIONS)

        # partial fill: the second account sells 300 into the bid (IOC at the bid price)
        start = len(ws.notifications)
        _, sold = await http.get(
            "private/sell",
            {
                "instrument_name": INSTRUMENT,
                "amount": 300,
                "price": bid,
                "time_in_force": "immediate_or_cancel",
            },
            {"Authorization": basic_header(SECOND)},
        )
        taker_trades = sold["result"]["trades"]
        assert [(t["price"], t["amount"], t["liquidity"]) for t in taker_trades] == [
            (bid, 300, "T")
        ]
        fill = (await ws.channel(TRADES, start=start))["params"]["data"]
        assert [
            (t["price"], t["amount"], t["liquidity"], t["direction"], t["label"]) for t in fill
        ] == [(bid, 300, "M", "buy", "life-1")]
        assert fill[0]["fee"] == 0 and fill[0]["fee_currency"] == "BTC"
        assert fill[0]["trade_id"] == taker_trades[0]["trade_id"]
        assert_conforms(
            {
                **load_payload("deribit", "ws_user_trades_docs"),
                "params": {"channel": TRADES, "data": fill},
            },
            load_payload("deribit", "ws_user_trades_docs"),
            TRADE_GENERATIONS,
        )
        partial = await ws.wait_for(
            lambda m: (
                m["params"]["channel"] == ORDERS and m["params"]["data"]["filled_amount"] == 300
            ),
            start=start,
        )
        assert partial["params"]["data"]["order_state"] == "open"
        changes = await ws.channel(CHANGES, start=start)
        data = changes["params"]["data"]
        assert data["instrument_name"] == INSTRUMENT
        assert [t["amount"] for t in data["trades"]] == [300]
        assert [(o["filled_amount"], o["order_state"]) for o in data["orders"]] == [(300, "open")]
        assert [(p["size"], p["direction"]) for p in data["positions"]] == [(300, "buy")]
        assert_conforms(
            changes,
            load_payload("deribit", "sim_ws_user_changes_instrument_docs"),
            ORDER_GENERATIONS | TRADE_GENERATIONS | POSITION_GENERATIONS,
        )
        portfolio = await ws.channel(PORTFOLIO, start=start)
        assert_conforms(portfolio, load_payload("deribit", "ws_user_portfolio"), {"btc_usd"})
        assert portfolio["params"]["data"]["delta_total_map"]["btc_usd"] > 0
        assert portfolio["params"]["data"]["currency"] == "BTC"

        # amend: a lower price keeps the fill, marks the order replaced
        start = len(ws.notifications)
        edited = await ws.result(
            "private/edit", {"order_id": order["order_id"], "amount": 1000, "price": amended}
        )
        assert_conforms(edited, load_payload("deribit", "rest_edit_response")["result"])
        assert (
            edited["order"]["price"],
            edited["order"]["filled_amount"],
            edited["order"]["replaced"],
            edited["order"]["order_state"],
        ) == (amended, 300, True, "open")
        pushed = await ws.channel(ORDERS, start=start)
        assert pushed["params"]["data"]["price"] == amended

        # cancel
        start = len(ws.notifications)
        cancelled = await ws.result("private/cancel", {"order_id": order["order_id"]})
        assert_conforms(cancelled, load_payload("deribit", "rest_cancel_response")["result"])
        assert (
            cancelled["order_state"],
            cancelled["cancel_reason"],
            cancelled["filled_amount"],
        ) == (
            "cancelled",
            "user_request",
            300,
        )
        final = await ws.wait_for(
            lambda m: (
                m["params"]["channel"] == ORDERS
                and m["params"]["data"]["order_state"] == "cancelled"
            ),
            start=start,
        )
        assert final["params"]["data"]["order_id"] == order["order_id"]
        _, rest = await http.get(
            "public/get_order_book", {"instrument_name": INSTRUMENT, "depth": 1000}
        )
        await ws.wait_for(
            lambda m: (
                m["params"]["channel"] == BOOK
                and m["params"]["data"]["change_id"] == rest["result"]["change_id"]
            )
        )
        await ws.wait_for(
            lambda m: (
                m["params"]["channel"] == ORDERS_BY_KIND
                and m["params"]["data"][-1]["order_state"] == "cancelled"
            )
        )

        # the batched by-kind channel: the latest state of each order in each batch
        batches = ws.on(ORDERS_BY_KIND)
        assert all(len({o["order_id"] for o in batch}) == len(batch) for batch in batches)
        assert batches[-1][-1]["order_state"] == "cancelled"
        assert batches[-1][-1]["order_id"] == order["order_id"]

        # the book stream told the story, chained without a gap
        seen: list[dict] = []
        for data in ws.on(BOOK):
            assert book.apply(data)
            seen.append(dict(book.bids))
        assert book.gaps == 0
        assert any(levels.get(bid) == 1000 for levels in seen)
        assert any(levels.get(bid) == 700 for levels in seen)
        assert any(levels.get(amended) == 700 and bid not in levels for levels in seen)
        assert amended not in book.bids and bid not in book.bids
        assert book.change_id == rest["result"]["change_id"]
        assert book.top(1000) == (rest["result"]["bids"], rest["result"]["asks"])
    finally:
        await ws.close()

    # what the REST queries say afterwards, in Deribit's shapes
    auth = {"Authorization": basic_header(demo)}
    _, trades = await http.get(
        "private/get_user_trades_by_instrument", {"instrument_name": INSTRUMENT}, auth
    )
    assert [(t["amount"], t["label"]) for t in trades["result"]["trades"]] == [(300, "life-1")]
    assert trades["result"]["has_more"] is False
    assert_conforms(
        trades["result"]["trades"],
        load_payload("deribit", "ws_user_trades_docs")["params"]["data"],
        TRADE_GENERATIONS,
    )
    _, by_currency = await http.get(
        "private/get_user_trades_by_currency", {"currency": "BTC"}, auth
    )
    assert by_currency["result"]["trades"] == trades["result"]["trades"]
    _, by_label = await http.get(
        "private/get_order_state_by_label", {"currency": "BTC", "label": "life-1"}, auth
    )
    assert [(o["order_state"], o["filled_amount"]) for o in by_label["result"]] == [
        ("cancelled", 300)
    ]
    _, positions = await http.get(
        "private/get_positions", {"currency": "BTC", "kind": "future"}, auth
    )
    assert [(p["instrument_name"], p["size"], p["average_price"]) for p in positions["result"]] == [
        (INSTRUMENT, 300, bid)
    ]
    assert_conforms(
        positions["result"], load_payload("deribit", "sim_rest_get_positions_docs")["result"]
    )
    _, position = await http.get("private/get_position", {"instrument_name": "ETH-PERPETUAL"}, auth)
    assert (position["result"]["size"], position["result"]["direction"]) == (0, "zero")
    assert_conforms(
        position["result"],
        load_payload("deribit", "sim_rest_get_position_docs")["result"],
        POSITION_GENERATIONS,
    )
    _, summary = await http.get("private/get_account_summary", {"currency": "BTC"}, auth)
    assert_conforms(
        summary["result"],
        load_payload("deribit", "ws_user_portfolio")["params"]["data"],
        {"limits", "btc_usd"},
    )
    assert summary["result"]["limits"]["matching_engine"]["trading"]["total"] == {
        "rate": 200,
        "burst": 250,
    }
    _, summaries = await http.get("private/get_account_summaries", {"extended": True}, auth)
    expected = load_payload("deribit", "rest_get_account_summaries")["result"]
    assert set(expected) - {"summaries"} <= set(summaries["result"])
    assert [s["currency"] for s in summaries["result"]["summaries"]] == ["BTC", "ETH", "USDC"]
    for item in summaries["result"]["summaries"]:
        assert set(expected["summaries"][0]) - {"margin_model"} <= set(item)
    _, history = await http.get(
        "private/get_order_history_by_instrument", {"instrument_name": INSTRUMENT}, auth
    )
    assert [o["order_id"] for o in history["result"]] == [order["order_id"]]


async def test_label_operations_and_cancel_all_variants(http):
    auth = {"Authorization": basic_header(SECOND)}
    ids = []
    for price, label in ((90000, "grid"), (90500, "grid"), (91000, "solo")):
        _, answer = await http.get(
            "private/buy",
            {"instrument_name": INSTRUMENT, "amount": 10, "price": price, "label": label},
            auth,
        )
        ids.append(answer["result"]["order"]["order_id"])
    _, answer = await http.get(
        "private/edit_by_label",
        {"label": "grid", "instrument_name": INSTRUMENT, "amount": 20, "price": 90000},
        auth,
    )
    assert answer["error"] == {"code": 13032, "message": "non_unique_order_label"}
    _, answer = await http.get(
        "private/edit_by_label",
        {"label": "solo", "instrument_name": INSTRUMENT, "amount": 20, "price": 91000},
        auth,
    )
    assert (answer["result"]["order"]["amount"], answer["result"]["order"]["replaced"]) == (
        20,
        True,
    )
    _, answer = await http.get("private/cancel_by_label", {"label": "grid"}, auth)
    assert answer["result"] == 2
    _, answer = await http.get("private/get_open_orders_by_currency", {"currency": "BTC"}, auth)
    assert [o["order_id"] for o in answer["result"]] == [ids[2]]
    _, eth = await http.get(
        "private/buy", {"instrument_name": "ETH-PERPETUAL", "amount": 1, "price": 3000}, auth
    )
    assert eth["result"]["order"]["order_id"].startswith("ETH-")
    _, answer = await http.get("private/cancel_all_by_currency", {"currency": "ETH"}, auth)
    assert answer["result"] == 1
    _, answer = await http.get(
        "private/cancel_all_by_instrument", {"instrument_name": INSTRUMENT}, auth
    )
    assert answer["result"] == 1
    _, answer = await http.get("private/cancel_all", {}, auth)
    assert answer["result"] == 0
    _, state = await http.get(
        "private/get_order_state", {"order_id": eth["result"]["order"]["order_id"]}, auth
    )
    assert state["result"]["order_state"] == "cancelled"


async def test_user_trades_carry_the_profit_or_loss_of_what_they_close(deribit, http):
    demo = {"Authorization": basic_header(deribit.credentials[VENUE])}
    second = {"Authorization": basic_header(SECOND)}
    best_bid, best_ask = await _best(http)
    high, low = best_ask - D("0.5"), best_bid + D("0.5")
    assert high > low  # both inside the spread, so only the test's orders trade there

    async def trade(maker_side: str, price: D) -> tuple[dict, dict]:
        params = {"instrument_name": INSTRUMENT, "amount": 1000, "price": price}
        _, resting = await http.get(f"private/{maker_side}", params, demo)
        taker_side = "sell" if maker_side == "buy" else "buy"
        _, taken = await http.get(
            f"private/{taker_side}", {**params, "time_in_force": "immediate_or_cancel"}, second
        )
        (taker_trade,) = taken["result"]["trades"]
        _, mine = await http.get(
            "private/get_user_trades_by_order",
            {"order_id": resting["result"]["order"]["order_id"]},
            demo,
        )
        (maker_trade,) = mine["result"]
        return taker_trade, maker_trade

    opened = await trade("sell", high)  # second buys 1000 USD at `high`
    closed = await trade("buy", low)  # and sells them at `low`
    assert [t["profit_loss"] for t in opened] == [0, 0]
    # inverse perpetual: 1000 USD x (1/entry - 1/exit) BTC, to 1e-10
    loss = (D(1000) * (1 / high - 1 / low)).quantize(D("1E-10"))
    assert [t["profit_loss"] for t in closed] == [loss, -loss]
    assert loss < 0


async def test_fill_or_kill_and_market_orders(http, deribit):
    auth = {"Authorization": basic_header(SECOND)}
    _, best_ask = await _best(http)
    _, answer = await http.get(
        "private/buy",
        {
            "instrument_name": INSTRUMENT,
            "amount": 10**7,
            "price": best_ask,
            "time_in_force": "fill_or_kill",
        },
        auth,
    )
    order = answer["result"]["order"]
    assert (order["order_state"], order["filled_amount"], answer["result"]["trades"]) == (
        "cancelled",
        0,
        [],
    )
    _, answer = await http.get(
        "private/buy", {"instrument_name": INSTRUMENT, "amount": 50, "type": "market"}, auth
    )
    order = answer["result"]["order"]
    assert (order["order_state"], order["filled_amount"], order["order_type"]) == (
        "filled",
        50,
        "market",
    )
    assert sum(t["amount"] for t in answer["result"]["trades"]) == 50
    assert all(t["liquidity"] == "T" and t["fee"] > 0 for t in answer["result"]["trades"])
    assert order["average_price"] >= best_ask


async def test_duplicate_and_reorder_private_pushes(deribit, session, urls, http, faults):
    ws = await Ws.connect(session, urls["ws_private"])
    auth = {"Authorization": basic_header(SECOND)}
    try:
        await ws.login(SECOND)
        await ws.result("private/subscribe", {"channels": [ORDERS]})
        faults.update(duplicate_private=1)
        _, first = await http.get(
            "private/buy", {"instrument_name": INSTRUMENT, "amount": 10, "price": 90000}, auth
        )
        await eventually(lambda: len(ws.notifications) >= 2)
        await ws.round_trip()
        assert [m["params"]["data"]["order_id"] for m in ws.notifications] == [
            first["result"]["order"]["order_id"]
        ] * 2
        assert ws.notifications[0] == ws.notifications[1]

        faults.update(reorder_private=1)
        start = len(ws.notifications)
        _, second = await http.get(
            "private/buy", {"instrument_name": INSTRUMENT, "amount": 10, "price": 89000}, auth
        )
        _, third = await http.get(
            "private/buy", {"instrument_name": INSTRUMENT, "amount": 10, "price": 88000}, auth
        )
        await eventually(lambda: len(ws.notifications) >= start + 2)
        await ws.round_trip()
        order_ids = [m["params"]["data"]["order_id"] for m in ws.notifications[start:]]
        assert order_ids == [
            third["result"]["order"]["order_id"],
            second["result"]["order"]["order_id"],
        ]
        assert faults.fired == {"duplicate_private": 1, "reorder_private": 1}
    finally:
        await ws.close()


async def test_lost_and_delayed_acknowledgements(session, urls, http, faults):
    auth = {"Authorization": basic_header(SECOND)}
    faults.update(lose_acks=1, lost_ack_wait_ms=50)
    with pytest.raises(aiohttp.ClientError):  # POST: aiohttp resends a GET on a dropped socket
        await http.post(
            "private/buy",
            {"instrument_name": INSTRUMENT, "amount": 10, "price": 90000, "label": "lost-http"},
            auth,
        )
    _, found = await http.get(
        "private/get_order_state_by_label", {"currency": "BTC", "label": "lost-http"}, auth
    )
    assert [o["order_state"] for o in found["result"]] == ["open"]  # accepted, answer lost

    ws = await Ws.connect(session, urls["ws_private"])
    try:
        await ws.login(SECOND)
        faults.update(lose_acks=1)
        future = await ws.send(
            "private/buy",
            {"instrument_name": INSTRUMENT, "amount": 10, "price": 90000, "label": "lost-ws"},
        )
        await asyncio.wait_for(ws.closed.wait(), 3)
        assert not future.done()
        assert ws.close_code == 1000  # the lost answer: the session is closed, not answered
    finally:
        await ws.close()
    _, found = await http.get(
        "private/get_order_state_by_label", {"currency": "BTC", "label": "lost-ws"}, auth
    )
    assert [o["order_state"] for o in found["result"]] == ["open"]

    faults.update(ack_delay_ms=150)
    started = time.monotonic()
    status, answer = await http.get(
        "private/buy", {"instrument_name": INSTRUMENT, "amount": 10, "price": 90000}, auth
    )
    assert status == 200 and answer["result"]["order"]["order_state"] == "open"
    assert time.monotonic() - started >= 0.15
    faults.update(ack_delay_ms=0)


async def test_internal_accounts_are_not_reachable(http):
    _, answer = await http.get(
        "public/auth",
        {"grant_type": "client_credentials", "client_id": MAKER_ACCOUNT, "client_secret": ""},
    )
    assert answer["error"]["code"] in (13004, -32602)


async def test_private_pushes_reach_only_their_account(deribit, session, urls, http):
    demo = deribit.credentials[VENUE]
    mine = await Ws.connect(session, urls["ws_private"])
    other = await Ws.connect(session, urls["ws_private"])
    try:
        await mine.login(SECOND)
        await other.login(demo)
        for ws in (mine, other):
            await ws.result(
                "private/subscribe",
                {"channels": [ORDERS, ORDERS_BY_KIND, "user.portfolio.any", CHANGES]},
            )
        placed = await mine.result(
            "private/buy", {"instrument_name": INSTRUMENT, "amount": 10, "price": 90000}
        )
        await mine.channel(ORDERS_BY_KIND)
        await other.round_trip()
        assert other.notifications == []
        batch = mine.on(ORDERS_BY_KIND)[0]
        assert [o["order_id"] for o in batch] == [placed["order"]["order_id"]]
        assert_conforms(
            next(m for m in mine.notifications if m["params"]["channel"] == ORDERS_BY_KIND),
            load_payload("deribit", "sim_ws_user_orders_100ms_docs"),
            ORDER_GENERATIONS,
        )
        portfolios = mine.on("user.portfolio.any")
        assert {p["currency"] for p in portfolios} == {"BTC"}

        _, open_orders = await http.get(
            "private/get_open_orders_by_instrument",
            {"instrument_name": INSTRUMENT},
            {"Authorization": basic_header(SECOND)},
        )
        assert_conforms(
            open_orders["result"],
            [load_payload("deribit", "rest_buy_response")["result"]["order"]],
            {"reject_post_only"},  # "present only when post_only is true" (private/buy docs)
        )
        for _ in range(30):  # taker flow is a Poisson process: step until a few trades printed
            if len(deribit.engine.recent_trades(VENUE, INSTRUMENT, 4)) >= 4:
                break
            deribit.advance(1.0)
        _, last = await http.get(
            "public/get_last_trades_by_instrument", {"instrument_name": INSTRUMENT, "count": 3}
        )
        assert len(last["result"]["trades"]) == 3 and last["result"]["has_more"] is True
        assert_conforms(
            last["result"]["trades"],
            load_payload("deribit", "ws_trades")["params"]["data"][1:],
        )
        seqs = [t["trade_seq"] for t in last["result"]["trades"]]
        assert seqs == sorted(seqs, reverse=True)
    finally:
        await mine.close()
        await other.close()


async def test_probabilistic_drop_closes_the_socket_instead_of_sending(session, urls, faults):
    ws = await Ws.connect(session, urls["ws_public"])
    try:
        faults.update(drop_ws_probability=1.0)
        await ws.send("public/test")
        await asyncio.wait_for(ws.closed.wait(), 3)
        assert ws.close_code == DROPPED
        assert faults.fired["drop_ws_probability"] == 1
    finally:
        faults.update(drop_ws_probability=0.0)
        await ws.close()


async def test_option_tickers_and_positions_carry_the_models_greeks(http):
    auth = {"Authorization": basic_header(SECOND)}
    call_name, put_name = "BTC-25DEC26-100000-C", "BTC-25DEC26-100000-P"
    _, call = await http.get("public/ticker", {"instrument_name": call_name})
    _, put = await http.get("public/ticker", {"instrument_name": put_name})
    call, put = call["result"], put["result"]
    assert call["underlying_index"] == "BTC-25DEC26" and call["interest_rate"] == 0
    assert call["mark_iv"] == put["mark_iv"] == D("60.00")  # the generator's option volatility
    assert 0 < call["bid_iv"] < call["mark_iv"] < call["ask_iv"]
    assert 0 < call["greeks"]["delta"] < 1 and -1 < put["greeks"]["delta"] < 0
    parity = call["greeks"]["delta"] - put["greeks"]["delta"]  # put-call parity of deltas
    assert abs(parity - 1) <= D("0.00001")
    assert call["greeks"]["gamma"] == put["greeks"]["gamma"] and call["greeks"]["vega"] > 0
    assert sorted(call["greeks"]) == ["delta", "gamma", "rho", "theta", "vega"]

    _, bought = await http.get(
        "private/buy", {"instrument_name": call_name, "amount": "0.5", "type": "market"}, auth
    )
    assert bought["result"]["order"]["order_state"] == "filled"
    _, positions = await http.get(
        "private/get_positions", {"currency": "BTC", "kind": "option"}, auth
    )
    (position,) = positions["result"]
    assert position["size"] == D("0.5") and "leverage" not in position
    expected_delta = D("0.5") * (call["greeks"]["delta"] - call["mark_price"])
    assert abs(position["delta"] - expected_delta) < D("0.002")
    assert position["average_price_usd"] == position["average_price"] * position["index_price"]
    _, summary = await http.get("private/get_account_summary", {"currency": "BTC"}, auth)
    assert summary["result"]["options_delta"] == position["delta"]
    assert summary["result"]["options_vega_map"] == {"btc_usd": position["vega"]}


async def test_delayed_ack_over_websocket_does_not_hold_the_connection(session, urls, faults):
    ws = await Ws.connect(session, urls["ws_private"])
    try:
        await ws.login(SECOND)
        await ws.result("private/subscribe", {"channels": [ORDERS]})
        faults.update(ack_delay_ms=300)
        placed = await ws.send(
            "private/buy", {"instrument_name": INSTRUMENT, "amount": 10, "price": 90000}
        )
        assert (await ws.result("public/test"))["version"] == "1.2.26"
        assert not placed.done()  # answered later; the push already told the order stands
        pushed = await ws.channel(ORDERS)
        answer = await asyncio.wait_for(placed, 3)
        assert answer["result"]["order"]["order_id"] == pushed["params"]["data"]["order_id"]
        assert answer["usDiff"] >= 300_000
    finally:
        faults.update(ack_delay_ms=0)
        await ws.close()


async def test_valid_until_in_the_past_times_out(http):
    status, answer = await http.get(
        "private/buy",
        {"instrument_name": INSTRUMENT, "amount": 10, "price": 90000, "valid_until": 1},
        {"Authorization": basic_header(SECOND)},
    )
    assert (status, answer["error"]["code"], answer["error"]["message"]) == (
        400,
        13888,
        "timed_out",
    )
