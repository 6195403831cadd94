"""Funds and margin: what an order ties up, what a fill settles, and how positions are revalued."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from exchanges.simulator.engine.book import Book
from exchanges.simulator.engine.fees import FEE_QUANTUM, quantity_unit
from exchanges.simulator.engine.records import (
    DEFAULT_LEVERAGE,
    ONE,
    ZERO,
    CancelReason,
    RejectReason,
    SimAccount,
    SimBalance,
    SimOrder,
    SimPosition,
    SimReject,
    tidy,
)
from exchanges.simulator.instruments import sim_symbol
from exchanges.venues.base import InstrumentInfo, InstrumentKind, OrderType, Side

MAINTENANCE_MARGIN = Decimal("0.005")


# Margin a short option position (or open sell order) ties up per unit of quantity, in the
# settlement coin: a flat simplification of Deribit's option margin formula.
OPTION_SHORT_MARGIN = Decimal("0.1")


class EngineMargin:
    """The `Engine`'s account side: funds checks, settlement of fills, locked margin, revaluation."""

    def _check_reduce_only(
        self, account: SimAccount, info: InstrumentInfo, symbol: str, side: Side, quantity: Decimal
    ) -> None:
        if info.kind is InstrumentKind.SPOT:
            raise SimReject(RejectReason.REDUCE_ONLY, "reduce-only is not available for spot")
        position = account.positions.get(symbol)
        held = ZERO if position is None else position.quantity
        if held == 0 or (held > 0) == (side is Side.BUY) or quantity > abs(held):
            raise SimReject(
                RejectReason.REDUCE_ONLY,
                f"reduce-only {side} {quantity} would increase the position {held}",
            )

    def _check_funds(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        book: Book,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None,
        reduce_only: bool,
        *,
        replacing: SimOrder | None = None,
    ) -> None:
        if reduce_only:
            return
        if order_type is OrderType.MARKET or price is None:
            cost, filled = ZERO, ZERO
            for level_price, size in book.levels(side.opposite, None):
                take = min(size, quantity - filled)
                cost += take * level_price
                filled += take
                if filled >= quantity:
                    break
            price = cost / filled if filled else ONE
        currency, needed = self._order_margin(account, info, side, quantity, price)
        if info.kind is InstrumentKind.SPOT and currency == self._spot_fee_currency(
            info, side, self.fees[(info.venue, sim_symbol(info))].taker
        ):
            needed += needed * self.fees[(info.venue, sim_symbol(info))].taker
        balance = account.balances.get(currency)
        available = ZERO if balance is None else balance.available
        if replacing is not None and replacing.price is not None:
            available += self._order_margin(
                account, info, replacing.side, replacing.remaining, replacing.price
            )[1]
        if needed > available:
            raise SimReject(
                RejectReason.INSUFFICIENT_FUNDS,
                f"needs {needed.quantize(FEE_QUANTUM)} {currency}, available "
                f"{available.quantize(FEE_QUANTUM)}",
            )

    def _order_margin(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        side: Side,
        quantity: Decimal,
        price: Decimal,
    ) -> tuple[str, Decimal]:
        """Currency and amount an open order of `quantity` at `price` ties up."""
        if info.kind is InstrumentKind.SPOT:
            if side is Side.BUY:
                return info.quote, quantity * price
            return info.base, quantity
        unit = quantity_unit(info)
        if info.kind is InstrumentKind.OPTION:
            if side is Side.BUY:
                return info.settle, quantity * unit * price
            return info.settle, quantity * unit * OPTION_SHORT_MARGIN
        leverage = account.leverage.get(sim_symbol(info), DEFAULT_LEVERAGE)
        if info.linear:
            return info.settle, quantity * unit * price / leverage
        return info.settle, quantity * unit / price / leverage

    @staticmethod
    def _closing(account: SimAccount, symbol: str, side: Side, quantity: Decimal) -> Decimal:
        """How much of the account's position in `symbol` a fill of `side` would close."""
        position = account.positions.get(symbol)
        held = ZERO if position is None else position.quantity
        if held == 0 or (held > 0) == (side is Side.BUY):
            return ZERO
        return min(quantity, abs(held))

    def _settle(
        self,
        account: SimAccount,
        info: InstrumentInfo,
        symbol: str,
        side: Side,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        fee_currency: str,
        now: int,
    ) -> Decimal:
        """Move the wallet and the position for one fill of `account`; a spot fee comes out of
        `fee_currency`, a derivative's out of the settlement coin. Returns the profit or loss
        the fill realized (fee not included)."""
        if info.kind is InstrumentKind.SPOT:
            base = account.balance(info.base)
            quote = account.balance(info.quote)
            if side is Side.BUY:
                base.total += quantity
                quote.total -= quantity * price
            else:
                base.total -= quantity
                quote.total += quantity * price
            account.balance(fee_currency).total -= fee
            self._touch_account(account)
            return ZERO
        unit = quantity_unit(info)
        position = account.positions.get(symbol)
        if position is None:
            position = account.positions[symbol] = SimPosition(
                venue=info.venue,
                symbol=symbol,
                leverage=account.leverage.get(symbol, DEFAULT_LEVERAGE),
                settle_currency=info.settle,
            )
        held = position.quantity
        signed = quantity if side is Side.BUY else -quantity
        pnl = ZERO
        if held == 0 or (held > 0) == (signed > 0):
            size = abs(held) + quantity
            if position.entry_price is None or held == 0:
                position.entry_price = price
            elif info.linear or info.kind is InstrumentKind.OPTION:
                position.entry_price = (position.entry_price * abs(held) + price * quantity) / size
            else:
                position.entry_price = size / (abs(held) / position.entry_price + quantity / price)
        else:
            closed = min(quantity, abs(held))
            direction = 1 if held > 0 else -1
            pnl = self._pnl(info, closed * unit * direction, position.entry_price, price)
            if quantity > abs(held):
                position.entry_price = price
            elif quantity == abs(held):
                position.entry_price = None
        position.quantity = held + signed
        if position.entry_price is not None:
            position.entry_price = tidy(position.entry_price)
        settle = account.balance(info.settle)
        if info.kind is InstrumentKind.OPTION:
            premium = quantity * unit * price
            settle.total += (-premium if side is Side.BUY else premium) - fee
        else:
            settle.total += pnl - fee
        position.realized_pnl = tidy(position.realized_pnl + pnl - fee)
        position.updated_ns = now
        self._revalue(info, position)
        self._pending_positions[(id(account), symbol)] = (account, position)
        self._touch_account(account)
        return pnl

    @staticmethod
    def _pnl(
        info: InstrumentInfo, signed_value: Decimal, entry: Decimal, price: Decimal
    ) -> Decimal:
        """PnL in the settlement currency of `signed_value` (contract currency) from entry to price."""
        if info.linear or info.kind is InstrumentKind.OPTION:
            return tidy(signed_value * (price - entry))
        return tidy(signed_value * (ONE / entry - ONE / price))

    def _revalue(self, info: InstrumentInfo, position: SimPosition) -> None:
        mark = self.market.mark_price(info.venue, position.symbol)
        position.mark_price = mark
        unit = quantity_unit(info)
        if position.quantity == 0 or position.entry_price is None:
            position.unrealized_pnl = ZERO
            position.liquidation_price = None
            position.margin = ZERO
            return
        position.unrealized_pnl = self._pnl(
            info, position.quantity * unit, position.entry_price, mark
        )
        size = abs(position.quantity) * unit
        entry = position.entry_price
        if info.kind is InstrumentKind.OPTION:
            position.margin = size * OPTION_SHORT_MARGIN if position.quantity < 0 else ZERO
            position.liquidation_price = None
            return
        lev = position.leverage
        step = ONE / lev - MAINTENANCE_MARGIN
        if info.linear:
            position.margin = tidy(size * entry / lev)
            liq = entry * (ONE - step) if position.quantity > 0 else entry * (ONE + step)
        else:
            position.margin = tidy(size / entry / lev)
            liq = entry / (ONE + step) if position.quantity > 0 else entry / (ONE - step)
        position.liquidation_price = max(liq, ZERO).quantize(info.tick_size, ROUND_HALF_EVEN)

    def revalue_positions(self) -> None:
        """Mark every user position to the current mark price (no pushes)."""
        for account in self._accounts.values():
            if account.internal:
                continue
            for position in account.positions.values():
                info = self.instruments[(account.venue, position.symbol)]
                self._revalue(info, position)

    def _touch_account(self, account: SimAccount) -> None:
        if not account.internal:
            self._pending_accounts[id(account)] = account

    def _relock(self, account: SimAccount) -> list[SimBalance]:
        """Recompute locked/available of every currency; returns the balances that changed."""
        locked: dict[str, Decimal] = {}
        for order in account.open_orders.values():
            if order.price is None or order.reduce_only:
                continue
            info = self.instruments[(order.venue, order.symbol)]
            currency, amount = self._order_margin(
                account, info, order.side, order.remaining, order.price
            )
            locked[currency] = locked.get(currency, ZERO) + amount
        for position in account.positions.values():
            if position.margin:
                currency = position.settle_currency
                locked[currency] = locked.get(currency, ZERO) + position.margin
        changed = []
        now = self.clock_ns()
        for currency in sorted(set(locked) | set(account.balances)):
            balance = account.balance(currency)
            new_locked = tidy(locked.get(currency, ZERO).quantize(FEE_QUANTUM, ROUND_DOWN))
            new_total = tidy(balance.total)
            new_available = new_total - new_locked
            if (new_locked, new_available, new_total) != (
                balance.locked,
                balance.available,
                balance.total,
            ):
                balance.locked = new_locked
                balance.total = new_total
                balance.available = new_available
                balance.updated_ns = now
                changed.append(balance)
        return changed

    def _enforce_reduce_only(self, account: SimAccount, position: SimPosition) -> None:
        """After the position moved, resting reduce-only orders may only close what is left:
        those that would now open or increase it are canceled, larger ones are cut down."""
        held = position.quantity
        for order in list(account.open_orders.values()):
            if not order.reduce_only or order.symbol != position.symbol:
                continue
            if held == 0 or (held > 0) == (order.side is Side.BUY):
                self._cancel(account, order, CancelReason.REDUCE_ONLY_SHRUNK)
            elif order.remaining > abs(held):
                book = self._books[(order.venue, order.symbol)]
                book.reduce(order.side, order.price, order.remaining - abs(held))
                order.quantity = order.filled_quantity + abs(held)
                order.updated_ns = self.clock_ns()
                self._dirty_books.add((order.venue, order.symbol))
                self._emit_order(account, order)
        for order in list(account.conditional_orders.values()):
            if not order.reduce_only or order.symbol != position.symbol:
                continue
            if held == 0 or (held > 0) == (order.side is Side.BUY):
                self._cancel(account, order, CancelReason.REDUCE_ONLY_SHRUNK)
            elif order.quantity > abs(held):
                order.quantity = abs(held)
                order.updated_ns = self.clock_ns()
                self._emit_order(account, order)
