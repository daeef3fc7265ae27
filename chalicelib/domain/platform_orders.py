"""Orders sold on a platform, as the platform's module parses them, and how ours catch up."""

from typing import Any

from .base import Model
from .connections import Platform
from .orders import OrderStatus


class PlatformLine(Model):
    sku: str
    quantity: int
    unit_price: int  # minor units


class PlatformOrder(Model):
    """An order as a platform reports it. `buyer` and `shipping_address` hold personal data on
    their way to the vault, and nowhere else."""

    platform: Platform
    external_id: str
    status: OrderStatus | None  # None: not an order to act on yet (unpaid, on hold)
    currency: str
    lines: list[PlatformLine]
    buyer: dict[str, Any] | None = None
    shipping_address: dict[str, Any] | None = None


# How an imported order catches up with the platform: the steps from each of our states.
_FORWARD = [OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED]


def catch_up(current: OrderStatus, reported: OrderStatus) -> list[OrderStatus]:
    """The transitions that bring an order from `current` to the platform's `reported` state,
    in order; none when it is there or beyond (events arrive out of order)."""
    if reported == OrderStatus.CANCELLED:
        return [OrderStatus.CANCELLED] if current == OrderStatus.PAID else []
    if current not in _FORWARD or reported not in _FORWARD:
        return []
    here, there = _FORWARD.index(current), _FORWARD.index(reported)
    return _FORWARD[here + 1 : there + 1]
