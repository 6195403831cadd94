"""What the OKX adapter remembers of its conditional (algo) orders, shared by the REST client
and the private stream of one account.

The order an OKX stop loss / take profit places when it fires is a plain `market` or `limit`
order: its `orders` pushes carry `algoId` and `algoClOrdId` but not whether it came from a stop
or a take profit, nor the trigger (docs-v5 "WS / Order channel": `slTriggerPx`... there are the
TP/SL attached to an order, empty here). So the algo's own view (an `orders-algo` push, an
algo list or details answer, our placement) is kept here by `algoId`, and the ids are kept by
the generated order's `ordId` for the REST fills, which name only `ordId` ("Transaction
details" has no algo fields).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal

from exchanges.venues.base import OrderType, TriggerPrice


@dataclass(frozen=True, slots=True)
class AlgoOrder:
    """One conditional algo order as placed: its type and trigger, and its ids."""

    algo_id: str
    client_order_id: str | None
    order_type: OrderType
    trigger_price: Decimal | None
    trigger_by: TriggerPrice | None


class AlgoOrders:
    """The account's known algo orders by `algoId`, and by the `ordId` of the order each placed
    (bounded: the oldest are forgotten first)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._by_algo_id: OrderedDict[str, AlgoOrder] = OrderedDict()
        self._by_ord_id: OrderedDict[str, str] = OrderedDict()

    def remember(self, algo: AlgoOrder, ord_id: str | None = None) -> None:
        self._by_algo_id[algo.algo_id] = algo
        self._by_algo_id.move_to_end(algo.algo_id)
        if ord_id:
            self.link(ord_id, algo.algo_id)
        while len(self._by_algo_id) > self.capacity:
            self._by_algo_id.popitem(last=False)

    def link(self, ord_id: str, algo_id: str) -> None:
        """The generated order `ord_id` belongs to the algo `algo_id`."""
        self._by_ord_id[ord_id] = algo_id
        while len(self._by_ord_id) > self.capacity:
            self._by_ord_id.popitem(last=False)

    def get(self, algo_id: str | None) -> AlgoOrder | None:
        return self._by_algo_id.get(algo_id) if algo_id else None

    def of_order(self, ord_id: str | None) -> AlgoOrder | None:
        """The algo whose trigger placed the order `ord_id`, if known."""
        algo_id = self._by_ord_id.get(ord_id) if ord_id else None
        return self._by_algo_id.get(algo_id) if algo_id else None

    def algo_id_of(self, ord_id: str | None) -> str | None:
        return self._by_ord_id.get(ord_id) if ord_id else None
