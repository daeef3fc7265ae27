"""Inventory moves: how each step of an order's life changes a variant's stock.

A variant keeps three counters: `on_hand` (units in the warehouse), `reserved` (held for
orders awaiting payment) and `available` (`on_hand - reserved`, stored so that a store can
make a reservation conditional on it). Every move changes them by a multiple of the line's
quantity, and the moves that take units out of `available` need that many to be there:

    reserve  (checkout)           available -= q, reserved += q   if available >= q
    commit   (paid)               reserved -= q, on_hand -= q
    release  (failed, expired)    available += q, reserved -= q
    reclaim  (late payment)       available -= q, on_hand -= q    if available >= q
    restock  (paid, cancelled)    available += q, on_hand += q

Stores apply a move to every line of an order in the same write as the order's own change,
so the order and the stock never disagree.
"""

from dataclasses import dataclass
from enum import StrEnum

from .catalog import Variant


class StockMove(StrEnum):
    RESERVE = "reserve"
    COMMIT = "commit"
    RELEASE = "release"
    RECLAIM = "reclaim"
    RESTOCK = "restock"


@dataclass(frozen=True)
class StockChange:
    """Per unit moved: what each counter gains (negative: loses)."""

    on_hand: int
    reserved: int
    available: int

    @property
    def needs_available(self) -> bool:
        """Whether the move takes units that must still be available."""
        return self.available < 0


STOCK_CHANGES: dict[StockMove, StockChange] = {
    StockMove.RESERVE: StockChange(on_hand=0, reserved=1, available=-1),
    StockMove.COMMIT: StockChange(on_hand=-1, reserved=-1, available=0),
    StockMove.RELEASE: StockChange(on_hand=0, reserved=-1, available=1),
    StockMove.RECLAIM: StockChange(on_hand=-1, reserved=0, available=-1),
    StockMove.RESTOCK: StockChange(on_hand=1, reserved=0, available=1),
}


def counter_deltas(move: StockMove, quantity: int) -> dict[str, int]:
    """The counters `move` changes for `quantity` units, by how much (unchanged ones left out)."""
    change = STOCK_CHANGES[move]
    deltas = {
        "on_hand": change.on_hand * quantity,
        "reserved": change.reserved * quantity,
        "available": change.available * quantity,
    }
    return {name: delta for name, delta in deltas.items() if delta}


def can_move(variant: Variant, move: StockMove, quantity: int) -> bool:
    return not STOCK_CHANGES[move].needs_available or variant.available >= quantity


def moved(variant: Variant, move: StockMove, quantity: int) -> Variant:
    """The variant after the move (the caller checks `can_move` first)."""
    deltas = counter_deltas(move, quantity)
    return variant.model_copy(
        update={name: getattr(variant, name) + delta for name, delta in deltas.items()}
    )


def on_hand_change_allowed(variant: Variant, on_hand: int) -> bool:
    """A merchant may set stock to anything that still covers what open orders hold."""
    return on_hand >= variant.reserved
