"""The stock moves as pure rules: what each changes, and which ones need available units."""

import pytest

from chalicelib.domain.catalog import Variant
from chalicelib.domain.inventory import StockMove, can_move, counter_deltas, moved
from chalicelib.domain.money import Money


def variant(on_hand=10, reserved=0):
    return Variant(
        id="var_1",
        product_id="prod_1",
        merchant_id="mer_1",
        sku="S",
        price=Money(amount=100, currency="EUR"),
        on_hand=on_hand,
        reserved=reserved,
    )


@pytest.mark.parametrize(
    ("move", "after"),
    [
        (StockMove.RESERVE, (10, 3, 7)),
        (StockMove.RECLAIM, (7, 0, 7)),
        (StockMove.RESTOCK, (13, 0, 13)),
    ],
)
def test_moves_from_a_fresh_variant(move, after):
    v = moved(variant(), move, 3)
    assert (v.on_hand, v.reserved, v.available) == after


def test_commit_and_release_undo_a_reservation_each_their_way():
    held = moved(variant(), StockMove.RESERVE, 4)
    sold = moved(held, StockMove.COMMIT, 4)
    back = moved(held, StockMove.RELEASE, 4)
    assert (sold.on_hand, sold.reserved, sold.available) == (6, 0, 6)
    assert (back.on_hand, back.reserved, back.available) == (10, 0, 10)


def test_only_moves_that_take_units_need_them_available():
    short = variant(on_hand=2)
    assert not can_move(short, StockMove.RESERVE, 3)
    assert not can_move(short, StockMove.RECLAIM, 3)
    assert can_move(short, StockMove.RESERVE, 2)
    for move in (StockMove.COMMIT, StockMove.RELEASE, StockMove.RESTOCK):
        assert can_move(short, move, 3)


def test_every_move_keeps_available_equal_to_on_hand_minus_reserved():
    for move in StockMove:
        deltas = counter_deltas(move, 5)
        assert deltas.get("available", 0) == deltas.get("on_hand", 0) - deltas.get("reserved", 0)
