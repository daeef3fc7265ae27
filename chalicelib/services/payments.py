"""Stripe's side of a sale: its webhook, and what each of its events does to an order.

The webhook route only verifies, de-duplicates and queues (Stripe retries slow answers); the
ingest consumer applies the event. Stripe sends events more than once and out of order, so
every handler is a conditional transition that leaves the same state however often, and in
whatever order, it runs. Events copy only the fields we use: charge objects hold the buyer's
billing details, and metadata may hold anything another integration put there, so neither
reaches our queues (of metadata, only our own keys are kept).

A Stripe account sends every event of the account, including sales this stack never made
(another integration, another region's stack). Before anything changes, an event is matched
to its order, and the order must be ours and agree with it:
- not ours: no order has its PaymentIntent, and its metadata names no order of this stack
  (another stack marks its PaymentIntents with its own `shoppable_stack`): acknowledged at
  once, logged and counted (`StripeEventsIgnored`, reason `not_ours`), never retried;
- ours but not visible yet (its metadata names an order of ours that cannot be read yet, a
  refund or dispute before the payment it is about): delivered again while the message's
  attempt is below `event_wait_attempts`, then decided without waiting, so that it never
  reaches the dead-letter queue;
- ours but not matching: the PaymentIntent is not the order's, or the amount or currency is
  not the order's total: the order is left as it is, with a note saying which event was
  ignored and why (and a log line and the `mismatch` count).
A dispute whose status is `warning_*` is an inquiry: the card issuer asks questions and no
money moves. It is kept on the order (`dispute`, kind `inquiry`) for the merchant to answer,
and leaves its status alone; `warning_closed` closes it. Chargebacks move the order to
`disputed` and back (won) or to `refunded` (lost).
"""

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from ..domain.claims import (
    INQUIRY_STATUSES,
    KEPT_STATUSES,
    DisputeKind,
    PaymentDispute,
    is_dispute_status,
    payment_dispute,
)
from ..domain.events import Message, RetryLater
from ..domain.ids import Prefix, has_prefix
from ..domain.inventory import StockMove
from ..domain.orders import (
    PAID_STATES,
    RELEASED_STATES,
    Order,
    OrderStatus,
    OrderUpdate,
    fully_refunded,
)
from ..domain.payments import STACK_KEY
from ..errors import Conflict, InvalidRequest
from ..observability import count, logger
from .orders import NotEnoughStock, Sales, move, record_refund, refund_in_stripe
from .ports import RECEIPT_DAYS, Clock, Publisher, WebhookReceipts


class PaymentEvents(Protocol):
    def verify_webhook(self, payload: bytes, signature_header: str | None) -> dict[str, Any]:
        """The event, if the signature header signs these exact bytes at a time within the
        tolerance; else the contract's 401 `invalid_signature`. A signed body that is not an
        event is 400 `invalid_event`."""
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
    "amount",
    "amount_received",
    "amount_refunded",
    "currency",
    "payment_intent",
    "charge",
    "status",
    "reason",
    "created",
)
_OUR_METADATA = ("order_id", "merchant_id", STACK_KEY)


class OrderNotVisibleYet(RetryLater):
    """The event names an order of ours that cannot be read yet."""


class DisputeNotOpenYet(RetryLater):
    """A dispute's closing arrived before its opening."""


class PaymentNotAppliedYet(RetryLater):
    """A refund or dispute arrived before the payment it is about was applied."""


def receive_webhook(payments: Payments, payload: bytes, signature: str | None) -> dict[str, Any]:
    event = payments.events.verify_webhook(payload, signature)
    event_id, event_type, data = event.get("id"), event.get("type"), event.get("data")
    stripe_object = data.get("object") if isinstance(data, dict) else None
    if not isinstance(event_id, str) or not isinstance(event_type, str):
        raise InvalidRequest("Not a Stripe event.", code="invalid_event")
    if event_type not in HANDLERS:
        logger.info("stripe event ignored", extra={"event_id": event_id, "type": event_type})
        return {"received": True}
    if not isinstance(stripe_object, dict):
        raise InvalidRequest("The event has no data.object.", code="invalid_event")
    if payments.receipts.seen("stripe", event_id):
        return {"received": True, "duplicate": True}
    found = stripe_object.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    ours = {k: metadata[k] for k in _OUR_METADATA if isinstance(metadata.get(k), str)}
    kept = {k: stripe_object[k] for k in _KEPT_FIELDS if _plain(stripe_object.get(k))}
    kept["metadata"] = ours
    now = payments.clock.now()
    payments.queue.publish(
        Message(
            id=event_id[:128],
            type=f"stripe.{event_type}",
            merchant_id=ours.get("merchant_id"),
            occurred_at=now,
            data=kept,
        )
    )
    payments.receipts.remember("stripe", event_id, int(now.timestamp()) + RECEIPT_DAYS * 86400)
    return {"received": True}


def _plain(value: Any) -> bool:
    """A field worth keeping: a string or a number (an expanded object is not)."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


# Matching an event to its order


def _ignored(message: Message, reason: str, order_id: str | None = None) -> None:
    logger.info(
        "stripe event ignored",
        extra={"event_id": message.id, "type": message.type, "reason": reason,
               "order_id": order_id},
    )  # fmt: skip
    count("StripeEventsIgnored", reason=reason)


def _wait(sales: Sales, message: Message, waiting: RetryLater) -> None:
    """Raise `waiting` (the message comes back) while attempts remain; then return, and the
    caller decides without it."""
    if message.attempt < sales.event_wait_attempts:
        raise waiting
    logger.warning(
        "stripe event waited long enough; decided without waiting",
        extra={"event_id": message.id, "type": message.type, "reason": str(waiting)},
    )


def _intent_of(data: dict[str, Any]) -> str | None:
    if data.get("object") == "payment_intent":
        return data.get("id") if isinstance(data.get("id"), str) else None
    intent = data.get("payment_intent")
    return intent if isinstance(intent, str) and intent else None


def _order_of(sales: Sales, message: Message) -> Order | None:
    """The order of ours this event is about, or None: not ours (acknowledged and counted),
    or ours but still not readable after the attempts allowed."""
    data = message.data
    metadata = data.get("metadata") or {}
    stack = metadata.get(STACK_KEY)
    if stack and stack != sales.stack_id:
        _ignored(message, "not_ours")  # another stack's sale on the same Stripe account
        return None
    order_id = metadata.get("order_id")
    if isinstance(order_id, str) and has_prefix(order_id, Prefix.ORDER):
        order = sales.orders.get(order_id)
        if order is None:
            _wait(sales, message, OrderNotVisibleYet(f"order {order_id} not visible yet"))
            _ignored(message, "not_visible", order_id)
        return order
    intent_id = _intent_of(data)
    order = sales.orders.for_payment_intent(intent_id) if intent_id else None
    if order is None:
        _ignored(message, "not_ours")
    return order


def _agrees(sales: Sales, order: Order, message: Message, problems: list[str]) -> bool:
    """True if nothing is wrong; else the event is kept off the order, with a note on it."""
    if not problems:
        return True
    what = ", ".join(problems)
    logger.warning(
        "stripe event does not match its order; ignored",
        extra={"event_id": message.id, "type": message.type, "order_id": order.id,
               "mismatch": what},
    )  # fmt: skip
    count("StripeEventsIgnored", reason="mismatch")
    sales.orders.note_once(order.id, f"Stripe event {message.id} ignored: {what} not this order's")
    return False


def _currency(data: dict[str, Any], order: Order) -> list[str]:
    currency = data.get("currency")
    same = isinstance(currency, str) and currency.upper() == order.amounts.currency.upper()
    return [] if same else ["currency"]


def _intent_problems(order: Order, data: dict[str, Any], received: bool) -> list[str]:
    problems = [] if data.get("id") == order.payment_intent_id else ["payment intent"]
    if data.get("amount") != order.amounts.total:
        problems.append("amount")
    if received and "amount_received" in data and data["amount_received"] != order.amounts.total:
        problems.append("amount received")
    return problems + _currency(data, order)


def _charge_problems(order: Order, data: dict[str, Any], whole: bool) -> list[str]:
    """A charge (whole: its amount is the order's total) or a dispute (at most the total:
    only part of an order may be disputed)."""
    problems = [] if data.get("payment_intent") == order.payment_intent_id else ["payment intent"]
    amount = data.get("amount")
    if not isinstance(amount, int) or (amount != order.amounts.total if whole else
                                       not 0 < amount <= order.amounts.total):  # fmt: skip
        problems.append("amount")
    refunded = data.get("amount_refunded", 0)
    if not isinstance(refunded, int) or not 0 <= refunded <= order.amounts.total:
        problems.append("amount refunded")
    return problems + _currency(data, order)


def _intent_order(sales: Sales, message: Message, received: bool) -> Order | None:
    order = _order_of(sales, message)
    if order is None:
        return None
    if order.payment_intent_id is None and order.status == OrderStatus.PENDING_PAYMENT:
        # Its PaymentIntent is attached right after it is created: not visible yet.
        _wait(sales, message, OrderNotVisibleYet(f"{order.id} has no payment intent yet"))
    if not _agrees(sales, order, message, _intent_problems(order, message.data, received)):
        return None
    return order


def _paid_order_of(sales: Sales, message: Message, whole: bool) -> Order | None:
    """The order of a refund or dispute, once its payment has been applied here."""
    order = _order_of(sales, message)
    if order is None:
        return None
    if not _agrees(sales, order, message, _charge_problems(order, message.data, whole)):
        return None
    if order.status == OrderStatus.PENDING_PAYMENT:
        _wait(sales, message, PaymentNotAppliedYet(f"{order.id} is not paid here yet"))
        _ignored(message, "not_paid", order.id)
        return None
    return order


# The handlers


def payment_succeeded(sales: Sales, message: Message) -> None:
    order = _intent_order(sales, message, received=True)
    if order is None:
        return
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
    order = _intent_order(sales, message, received=False)
    if order is None or order.status != OrderStatus.PENDING_PAYMENT:
        return  # not ours, or already decided: a failure reported late changes nothing
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
    order = _paid_order_of(sales, message, whole=True)
    if order is not None:
        record_refund(sales, order, int(message.data.get("amount_refunded", 0)))


def _dispute_closed(order: Order) -> bool:
    """Stripe allows one dispute per charge; once closed, a late `created` must not reopen it."""
    return any((change.reason or "").startswith("dispute ") for change in order.history)


def _dispute_record(sales: Sales, message: Message, order: Order) -> PaymentDispute:
    data = message.data
    created = data.get("created")
    opened = datetime.fromtimestamp(created, UTC) if isinstance(created, int) else order.created_at
    return payment_dispute(
        dispute_id=str(data.get("id")),
        status=str(data["status"]),
        reason=data.get("reason") if isinstance(data.get("reason"), str) else None,
        amount=int(data["amount"]),
        currency=str(data["currency"]),
        opened_at=opened,
        now=sales.clock.now(),
    )


def dispute_changed(sales: Sales, message: Message) -> None:
    """`charge.dispute.created` and `.updated`: an inquiry is kept on the order; a chargeback
    also moves it to `disputed` (a new dispute, or an inquiry that escalated)."""
    if not is_dispute_status(message.data.get("status")):
        _ignored(message, "unknown_status")
        return
    order = _paid_order_of(sales, message, whole=False)
    if order is None:
        return
    record = _dispute_record(sales, message, order)
    if record.kind == DisputeKind.INQUIRY:
        _keep_dispute(sales, order, record)
        return
    if not record.open:
        dispute_closed(sales, message)  # an update that closes a chargeback
        return
    if order.status in PAID_STATES and not _dispute_closed(order):
        with suppress(Conflict):  # a repeated event: the order is disputed already
            move(
                sales,
                order,
                OrderStatus.DISPUTED,
                update=OrderUpdate(disputed_from=order.status, dispute=record),
            )
            return
    _keep_dispute(sales, order, record)  # disputed already: its later status


def _keep_dispute(sales: Sales, order: Order, record: PaymentDispute) -> None:
    if sales.orders.set_dispute(order.id, record):
        logger.info(
            "payment dispute kept on the order",
            extra={"order_id": order.id, "kind": record.kind, "status": record.status},
        )


def dispute_closed(sales: Sales, message: Message) -> None:
    if not is_dispute_status(message.data.get("status")):
        _ignored(message, "unknown_status")
        return
    order = _paid_order_of(sales, message, whole=False)
    if order is None:
        return
    record = _dispute_record(sales, message, order)
    if record.status in INQUIRY_STATUSES:
        _keep_dispute(sales, order, record)  # an inquiry closed: no money moved either way
        return
    kept = record.status in KEPT_STATUSES
    if order.status != OrderStatus.DISPUTED:
        if order.status in PAID_STATES and not _dispute_closed(order):
            _wait(sales, message, DisputeNotOpenYet(f"dispute of {order.id} not open here"))
            if not kept:  # its opening never came: the money is gone all the same
                move(
                    sales, order, OrderStatus.REFUNDED, sources=frozenset({order.status}),
                    reason=f"dispute {record.status}",
                    update=OrderUpdate(amounts=fully_refunded(order.amounts), dispute=record),
                )  # fmt: skip
                return
        _keep_dispute(sales, order, record)
        return
    target = (order.disputed_from or OrderStatus.PAID) if kept else OrderStatus.REFUNDED
    move(
        sales,
        order,
        target,
        sources=frozenset({OrderStatus.DISPUTED}),
        reason=f"dispute {record.status}",
        update=OrderUpdate(dispute=record)
        if kept
        else OrderUpdate(amounts=fully_refunded(order.amounts), dispute=record),
    )


HANDLERS: dict[str, Callable[[Sales, Message], None]] = {
    "payment_intent.succeeded": payment_succeeded,
    "payment_intent.payment_failed": payment_failed,
    "payment_intent.canceled": payment_failed,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_changed,
    "charge.dispute.updated": dispute_changed,
    "charge.dispute.closed": dispute_closed,
}
