"""OKX account reads over REST, mixed into `OkxRestClient`: fills (GET /api/v5/trade/fills,
paged by `billId`), positions, balances, and the `cancel-all-after` dead-man switch (docs-v5
"Order Book Trading > Trade", "Trading Account")."""

from __future__ import annotations

from dataclasses import replace

from exchanges.venues.base import BalanceUpdate, FillEvent, FillPage, PositionUpdate, now_ns
from exchanges.venues.okx import constants as C
from exchanges.venues.okx.parse import parse_balances, parse_fill, parse_position
from exchanges.venues.okx.symbols import inst_type_of


class OkxAccountRest:
    """Fills, positions, balances and the dead-man switch of `OkxRestClient`."""

    def fills(self, *, cursor: str | None = None, venue_symbol: str | None = None) -> FillPage:
        """Fills newer than `cursor` (a `billId`), oldest first; the next cursor is the newest
        `billId` returned. Without a cursor: the latest page. OKX pages newest-first, with
        `before` = newer than and `after` = older than a billId, so the pages between the cursor
        and now are walked downwards until a short page."""
        base: dict[str, str] = {"limit": str(C.PAGE_LIMIT)}
        if venue_symbol:
            base["instType"] = inst_type_of(venue_symbol)
            base["instId"] = venue_symbol
        rows: list[dict] = []
        params = dict(base)
        if cursor:
            params["before"] = cursor
        while True:
            envelope = self._request("GET", C.PATH_FILLS, params=params, group="fills", signed=True)
            page = self._data(envelope, "fills")
            rows.extend(page)
            if not cursor or len(page) < C.PAGE_LIMIT:
                break
            params = {**base, "before": cursor, "after": min(page, key=_bill_id)["billId"]}
        received = now_ns()
        unique = {row["billId"]: row for row in rows}
        ordered = sorted(unique.values(), key=_bill_id)
        fills: tuple[FillEvent, ...] = tuple(
            self._under_algo_ids(parse_fill(row, self.symbols.unified(row["instId"]), received))
            for row in ordered
        )
        next_cursor = ordered[-1]["billId"] if ordered else cursor
        return FillPage(fills=fills, cursor=next_cursor)

    def _under_algo_ids(self, fill: FillEvent) -> FillEvent:
        """A fill of an order a known algo placed, named by the algo's ids (a REST fill names
        only `ordId`); one of an unknown algo keeps the `ordId`."""
        algo = self.algos.of_order(fill.venue_order_id)
        if algo is None:
            return fill
        return replace(fill, venue_order_id=algo.algo_id, client_order_id=algo.client_order_id)

    def positions(self) -> list[PositionUpdate]:
        envelope = self._request("GET", C.PATH_POSITIONS, group="positions", signed=True)
        received = now_ns()
        return [
            parse_position(raw, self.symbols.unified(raw["instId"]), received)
            for raw in self._data(envelope, "positions")
        ]

    def balances(self) -> list[BalanceUpdate]:
        envelope = self._request("GET", C.PATH_BALANCES, group="balance", signed=True)
        received = now_ns()
        out: list[BalanceUpdate] = []
        for raw in self._data(envelope, "balance"):
            out.extend(parse_balances(raw, received))
        return out

    def set_dead_man_switch(self, timeout_seconds: int) -> None:
        """POST cancel-all-after: OKX cancels every order on the book if not called again
        within `timeout_seconds` (0 turns it off; otherwise 10..120). The docs name "all
        pending orders ... through order book": untriggered algo orders (stops, take profits)
        are not among them."""
        low, high = C.DEAD_MAN_SWITCH_RANGE
        if timeout_seconds != 0 and not low <= timeout_seconds <= high:
            raise ValueError(
                f"OKX cancel-all-after takes 0 or {low}..{high} s, not {timeout_seconds}"
            )
        envelope = self._request(
            "POST",
            C.PATH_DEAD_MAN_SWITCH,
            body={"timeOut": str(timeout_seconds)},
            group="cancel_all_after",
            signed=True,
        )
        self._data(envelope, "cancel_all_after")


def _bill_id(row: dict) -> int:
    return int(row["billId"])
