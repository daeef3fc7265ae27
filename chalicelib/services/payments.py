"""Stripe's side of a sale: its webhook, and what each of its events does to an order.

The webhook route only verifies, de-duplicates and queues (Stripe retries slow answers); the
ingest consumer applies the event. Stripe sends events more than once and out of order, so
every handler is a conditional transition that leaves the same state however often, and in
whatever order, it runs. Events copy only the fields we use: charge objects hold the buyer's
billing details, which must not reach our queues.
"""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.events import Message
from ..domain.inventory import StockMove
from ..domain.orders import (
    PAID_STATES,
    RELEASED_STATES,
    Order,
    OrderStatus,
    OrderUpdate,
    fully_refunded,
)
from ..errors import Conflict, InvalidRequest
from ..observability import logger
from .orders import NotEnoughStock, Sales, move, record_refund, refund_in_stripe
from .ports import RECEIPT_DAYS, Clock, Publisher, WebhookReceipts


class PaymentEvents(Protocol):
    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event, if the signature header signs these exact bytes recently enough; else
        the contract's 401 `invalid_signature`."""
        ...


@dataclass(frozen=True)
class Payments:
    """The Stripe webhook's side: verify, de-duplicate, queue."""

    events: PaymentEvents
    receipts: WebhookReceipts
    queue: Publisher
    clock: Clock


_KEPT_FIELDS = (
    "id",
    "object",
    "metadata",
    "amount",
    "amount_received",
    "amount_refunded",
    "currency",
    "payment_intent",
    "status",
    "reason",
)


class OrderNotVisibleYet(Exception):
    """The event is about an order we cannot see yet: raise so that SQS delivers it again."""


class DisputeNotOpenYet(Exception):
    """A dispute's closing arrived before its opening: raise so that SQS delivers it again."""


class PaymentNotAppliedYet(Exception):
    """A refund or dispute arrived before the payment it is about: raise so that SQS delivers
    it again once `payment_intent.succeeded` has been applied."""


def receive_webhook(payments: Payments, payload: bytes, signature: str | None) -> dict[str, Any]:
    event = payments.events.verify_webhook(payload, signature)
    event_id, event_type = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise InvalidRequest("Not a Stripe event.", code="invalid_event")
    if event_type not in HANDLERS:
        logger.info("stripe event ignored", extra={"event_id": event_id, "type": event_type})
        return {"received": True}
    if payments.receipts.seen("stripe", event_id):
        return {"received": True, "duplicate": True}
    stripe_object = event.get("data", {}).get("object", {})
    now = payments.clock.now()
    payments.queue.publish(
        Message(
            id=event_id,
            type=f"stripe.{event_type}",
            merchant_id=(stripe_object.get("metadata") or {}).get("merchant_id"),
            occurred_at=now,
            data={k: stripe_object[k] for k in _KEPT_FIELDS if k in stripe_object},
        )
    )
    payments.receipts.remember("stripe", event_id, int(now.timestamp()) + RECEIPT_DAYS * 86400)
    return {"received": True}


def _order_of(sales: Sales, data: dict[str, Any]) -> Order:
    order_id = (data.get("metadata") or {}).get("order_id")
    order = sales.orders.get(order_id) if order_id else None
    intent_id = data.get("payment_intent") or (
        data["id"] if data.get("object") == "payment_intent" else None
    )
    if order is None and intent_id:
        order = sales.orders.for_payment_intent(intent_id)
    if order is None:
        raise OrderNotVisibleYet(f"no order for {data.get('id')}")
    return order


def _paid_order_of(sales: Sales, data: dict[str, Any]) -> Order:
    order = _order_of(sales, data)
    if order.status == OrderStatus.PENDING_PAYMENT:
        raise PaymentNotAppliedYet(f"{data.get('id')} is about {order.id}, not paid here yet")
    return order


def payment_succeeded(sales: Sales, message: Message) -> None:
    order = _order_of(sales, message.data)
    if order.status == OrderStatus.PENDING_PAYMENT:
        try:
            move(
                sales,
                order,
                OrderStatus.PAID,
                stock=StockMove.COMMIT,
                sources=frozenset({OrderStatus.PENDING_PAYMENT}),
            )
            return
        except Conflict:
            order = sales.orders.get(order.id) or order  # it moved meanwhile: decide again
    if order.status in RELEASED_STATES:
        _late_payment(sales, order)


def _late_payment(sales: Sales, order: Order) -> None:
    """Paid after the stock was released. Take the stock again if it is there; if not, or if
    the merchant had cancelled, refund the buyer in full. Never keep money for nothing."""
    if order.status != OrderStatus.CANCELLED:
        try:
            move(
                sales,
                order,
                OrderStatus.PAID,
                stock=StockMove.RECLAIM,
                sources=frozenset({OrderStatus.PAYMENT_FAILED, OrderStatus.EXPIRED}),
                reason="paid after the reservation ended; stock taken again",
            )
            return
        except NotEnoughStock:
            pass
    refund_in_stripe(sales, order, order.amounts.total, f"late-payment-{order.id}")
    move(
        sales,
        order,
        OrderStatus.REFUNDED,
        sources=frozenset({order.status}),
        reason="paid after the reservation ended; refunded automatically",
        update=OrderUpdate(amounts=fully_refunded(order.amounts)),
    )


def payment_failed(sales: Sales, message: Message) -> None:
    order = _order_of(sales, message.data)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return  # already decided; a failure reported late changes nothing
    with suppress(Conflict):  # paid or expired meanwhile: that decision stands
        move(
            sales,
            order,
            OrderStatus.PAYMENT_FAILED,
            stock=StockMove.RELEASE,
            sources=frozenset({OrderStatus.PENDING_PAYMENT}),
            reason=message.type.removeprefix("stripe."),
        )


def charge_refunded(sales: Sales, message: Message) -> None:
    order = _paid_order_of(sales, message.data)
    record_refund(sales, order, int(message.data.get("amount_refunded", 0)))


def _dispute_closed(order: Order) -> bool:
    """Stripe allows one dispute per charge; once closed, a late `created` must not reopen it."""
    return any((change.reason or "").startswith("dispute ") for change in order.history)


def dispute_created(sales: Sales, message: Message) -> None:
    order = _paid_order_of(sales, message.data)
    if order.status in PAID_STATES and not _dispute_closed(order):
        with suppress(Conflict):  # a repeated event: the order is disputed already
            move(sales, order, OrderStatus.DISPUTED, update=OrderUpdate(disputed_from=order.status))


def dispute_closed(sales: Sales, message: Message) -> None:
    order = _paid_order_of(sales, message.data)
    if order.status != OrderStatus.DISPUTED:
        if order.status in PAID_STATES and not _dispute_closed(order):
            raise DisputeNotOpenYet(f"dispute of {order.id} closed before it opened here")
        return
    won = message.data.get("status") in ("won", "warning_closed")
    target = (order.disputed_from or OrderStatus.PAID) if won else OrderStatus.REFUNDED
    move(
        sales,
        order,
        target,
        sources=frozenset({OrderStatus.DISPUTED}),
        reason=f"dispute {message.data.get('status')}",
        update=None if won else OrderUpdate(amounts=fully_refunded(order.amounts)),
    )


HANDLERS: dict[str, Callable[[Sales, Message], None]] = {
    "payment_intent.succeeded": payment_succeeded,
    "payment_intent.payment_failed": payment_failed,
    "payment_intent.canceled": payment_failed,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
    "charge.dispute.closed": dispute_closed,
}
