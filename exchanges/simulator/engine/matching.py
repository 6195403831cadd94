"""Price-time matching: order checks, crossing, execution of one match and its fills."""

from __future__ import annotations

from decimal import Decimal

from exchanges.simulator.engine.book import Book
from exchanges.simulator.engine.records import (
    ZERO,
    RejectReason,
    SimAccount,
    SimFill,
    SimOrder,
    SimReject,
    SimTrade,
    tidy,
)
from exchanges.venues.base import (
    InstrumentInfo,
    InstrumentKind,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    Venue,
)


class EngineMatching:
    """The `Engine`'s matching: validation of price and size, crossing, and executing matches."""

    @staticmethod
    def _validate_price(info: InstrumentInfo, price: Decimal | None) -> None:
        if price is None or not price.is_finite() or price <= 0:
            raise SimReject(RejectReason.INVALID_PRICE, f"price {price} must be positive")
        if price % info.tick_size != 0:
            raise SimReject(
                RejectReason.INVALID_PRICE,
                f"price {price} is not a multiple of the tick {info.tick_size}",
            )

    @staticmethod
    def _validate_size(info: InstrumentInfo, quantity: Decimal) -> None:
        """Positive, on the lot and at least the minimum size. A spot instrument with a minimum
        notional is bounded by that value instead of by its size (Bybit spot: `minOrderQty` is
        deprecated and no longer checked, `minOrderAmt` is)."""
        if not quantity.is_finite() or quantity <= 0:
            raise SimReject(RejectReason.INVALID_SIZE, f"quantity {quantity} must be positive")
        notional_bounds_spot = info.kind is InstrumentKind.SPOT and info.min_notional is not None
        if quantity < info.min_size and not notional_bounds_spot:
            raise SimReject(
                RejectReason.INVALID_SIZE,
                f"quantity {quantity} is below the minimum {info.min_size}",
            )
        if quantity % info.lot_size != 0:
            raise SimReject(
                RejectReason.INVALID_SIZE,
                f"quantity {quantity} is not a multiple of the lot {info.lot_size}",
            )

    @staticmethod
    def _validate_notional(info: InstrumentInfo, quantity: Decimal, price: Decimal | None) -> None:
        """An order's value (quantity x contract size x price; a market order at the best
        opposite price) is at least the instrument's minimum notional, where it has one."""
        if info.min_notional is None or info.inverse or price is None:
            return
        notional = quantity * info.contract_size * price
        if notional < info.min_notional:
            raise SimReject(
                RejectReason.BELOW_MIN_NOTIONAL,
                f"order value {notional} is below the minimum {info.min_notional}",
            )

    @staticmethod
    def _crosses(side: Side, price: Decimal | None, opposite: Decimal) -> bool:
        if price is None:
            return True
        return price >= opposite if side is Side.BUY else price <= opposite

    @staticmethod
    def _fillable(book: Book, side: Side, price: Decimal | None, quantity: Decimal) -> Decimal:
        total = ZERO
        for level_price, size in book.levels(side.opposite, None):
            if price is not None and not EngineMatching._crosses(side, price, level_price):
                break
            total += size
            if total >= quantity:
                break
        return total

    def _match(
        self, account: SimAccount, info: InstrumentInfo, book: Book, order: SimOrder
    ) -> None:
        opposite = book.side(order.side.opposite)
        key = (order.venue, order.symbol)
        while order.remaining > 0 and opposite:
            level_price, queue = opposite.peekitem(-1 if order.side is Side.SELL else 0)
            if order.order_type.executes_as is OrderType.LIMIT and not self._crosses(
                order.side, order.price, level_price
            ):
                break
            while queue and order.remaining > 0:
                maker = queue[0]
                quantity = min(maker.remaining, order.remaining)
                maker_account = self._accounts[(maker.venue, maker.api_key)]
                book.reduce(maker.side, level_price, quantity)
                self._execute(
                    info, key, account, order, maker_account, maker, level_price, quantity
                )
                if maker.remaining == 0:
                    queue.popleft()
                    maker_account.open_orders.pop(maker.order_id, None)
                self._emit_order(maker_account, maker)
            if not queue:
                del opposite[level_price]
            self._dirty_books.add(key)

    def _execute(
        self,
        info: InstrumentInfo,
        key: tuple[Venue, str],
        taker_account: SimAccount,
        taker: SimOrder,
        maker_account: SimAccount,
        maker: SimOrder,
        price: Decimal,
        quantity: Decimal,
    ) -> None:
        now = self.clock_ns()
        venue = taker.venue
        trade = SimTrade(
            trade_id=str(next(self._trade_ids[venue])),
            venue=venue,
            symbol=taker.symbol,
            price=price,
            quantity=quantity,
            taker_side=taker.side,
            ts_ns=now,
        )
        book = self._books[key]
        book.last_price = price
        book.last_size = quantity
        stats = self._stats[key]
        stats.volume += quantity
        stats.trades.append(trade)
        stats.open = stats.open if stats.open is not None else price
        stats.high = price if stats.high is None else max(stats.high, price)
        stats.low = price if stats.low is None else min(stats.low, price)
        self._emit("on_trade", trade)
        for acct, order, liquidity in (
            (taker_account, taker, Liquidity.TAKER),
            (maker_account, maker, Liquidity.MAKER),
        ):
            self._fill_order(order, price, quantity, now)
            if acct.internal:
                continue
            fee, fee_currency = self._fee(info, key, order.side, price, quantity, liquidity)
            order.fee_paid += fee
            order.fee_currency = fee_currency
            closed = self._closing(acct, order.symbol, order.side, quantity)
            pnl = self._settle(
                acct, info, order.symbol, order.side, price, quantity, fee, fee_currency, now
            )
            fill = SimFill(
                trade_id=trade.trade_id,
                order_id=order.order_id,
                client_order_id=order.client_order_id,
                api_key=order.api_key,
                venue=venue,
                symbol=order.symbol,
                side=order.side,
                price=price,
                quantity=quantity,
                fee=fee,
                fee_currency=fee_currency,
                liquidity=liquidity,
                ts_ns=now,
                closed_quantity=closed,
                realized_pnl=pnl,
            )
            acct.fills.append(fill)
            self._emit("on_fill", acct, fill)

    @staticmethod
    def _fill_order(order: SimOrder, price: Decimal, quantity: Decimal, now: int) -> None:
        before = order.filled_quantity
        order.filled_quantity = before + quantity
        if order.average_price is None:
            order.average_price = price
        else:
            order.average_price = tidy(
                (order.average_price * before + price * quantity) / order.filled_quantity
            )
        order.last_fill_price = price
        order.last_fill_quantity = quantity
        order.status = OrderStatus.FILLED if order.remaining == 0 else OrderStatus.PARTIALLY_FILLED
        order.updated_ns = now
