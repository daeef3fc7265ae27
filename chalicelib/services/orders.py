"""The order lifecycle: every status change, whoever asks for it (merchant, Stripe, schedule).

Each change is one conditional write (`OrderStore.move`: the order and its lines' stock
together) that carries its order event into the outbox (services/outbound.py): the event
exists exactly when the change does. Refunds are announced once Stripe made them, by a write
that is conditional on the refunded total not having been announced yet, whichever of our
refund call or Stripe's `charge.refunded` comes first.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ..domain.attribution import DEFAULT_WINDOW, Referral
from ..domain.claims import CancellationRequest, PaymentDispute
from ..domain.errors import ConcurrentUpdate, OutOfStock
from ..domain.ids import Prefix
from ..domain.inventory import StockMove
from ..domain.merchants import CheckoutSettings
from ..domain.orders import (
    PAID_STATES,
    BuyerRef,
    CancelRequest,
    CheckoutAccess,
    Fulfillment,
    FulfillRequest,
    Hold,
    Order,
    OrderStatus,
    OrderUpdate,
    OrderView,
    RefundRequest,
    StatusChange,
    allowed_sources,
    can_transition,
    fully_refunded,
    order_view,
    refund_outcome,
    transitioned,
)
from ..domain.outbound import Event, EventType, OrderEventData, new_event
from ..domain.payments import PaymentIntent, Refund
from ..domain.scopes import Scope
from ..errors import Conflict, ShoppableError, ValidationFailed
from ..observability import logger
from ..vault.models import Caller, ConsentGiven, CustomerCreate
from .access import owned
from .catalog import ProductStore
from .ports import Clock, CustomerVault, Digests
from .posts import PostStore


class OrderStore(Protocol):
    def place(
        self,
        order: Order,
        holds: list[Hold] | None = None,
        event: Event | None = None,
        backorder: bool = False,
    ) -> None:
        """Write the order, reserve every line's stock and count it in each hold (the order
        names their keys), all or nothing, with `event` in the outbox. Raises OutOfStock for
        the first line short of stock (unless `backorder`: then available may go below zero),
        HoldLimitReached for a hold at its cap, AlreadyExists if the order is there already.
        Holds are released by the order's first move away from pending_payment."""
        ...

    def attach_payment(
        self,
        order_id: str,
        intent_id: str,
        customer: BuyerRef,
        secret_digest: str,
        event: Event | None = None,
    ) -> None:
        """`secret_digest`: of the PaymentIntent's client_secret, kept beside the order (never
        in it) so that the buyer can read the checkout's status; `event` goes into the outbox
        in the same write."""
        ...

    def discard(self, order: Order) -> None:
        """Undo `place` for an order whose checkout failed before the buyer could pay."""
        ...

    def get(self, order_id: str) -> Order | None: ...

    def checkout_access(self, order_id: str) -> CheckoutAccess | None:
        """The order's status and its client_secret's digest, in one read."""
        ...

    def for_payment_intent(self, intent_id: str) -> Order | None: ...

    def page(
        self,
        merchant_id: str,
        limit: int,
        cursor: str | None,
        status: OrderStatus | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> tuple[list[Order], str | None]: ...

    def awaiting_payment_until(self, until: datetime) -> list[str]:
        """Ids of orders whose reservation expired at or before `until`."""
        ...

    def move(
        self,
        order: Order,
        change: StatusChange,
        sources: frozenset[OrderStatus],
        stock: StockMove | None = None,
        update: OrderUpdate | None = None,
        event: Event | None = None,
    ) -> None:
        """Move the order to `change.status` if it is still in one of `sources`, applying
        `stock` to its lines and putting `event` in the outbox in the same write. Raises
        ConcurrentUpdate when the order is in another status, OutOfStock when a line's stock
        is short."""
        ...

    def add_refund(self, order: Order, amount: int, change: StatusChange) -> None:
        """Count `amount` as refunded if that much is still refundable and the order is paid;
        ConcurrentUpdate otherwise."""
        ...

    def undo_refund(self, order: Order, amount: int, previous: OrderStatus, note: str) -> None:
        """Give back a refund reservation whose payment provider refund failed."""
        ...

    def record_refunded_total(self, order: Order, refunded: int, change: StatusChange) -> bool:
        """Raise the refunded total to the provider's figure; False if it was that high."""
        ...

    def announce_refund(self, order_id: str, refunded: int, event: Event) -> bool:
        """Put `event` in the outbox unless refunds up to `refunded` were announced already."""
        ...

    def note(self, order_id: str, note: str) -> None: ...

    def note_once(self, order_id: str, note: str) -> None:
        """Add `note` unless the order has it already (a redelivered message's note)."""
        ...

    def set_cancellation(self, order_id: str, request: CancellationRequest) -> bool:
        """Keep `request` on the order unless it holds a newer request, or a later stage of
        the same one; False if nothing changed."""
        ...

    def answer_cancellation(
        self, order_id: str, request: CancellationRequest, answered: CancellationRequest
    ) -> bool:
        """Replace `request` with `answered` if the order still holds `request` as it was;
        False if it changed meanwhile."""
        ...

    def set_dispute(self, order_id: str, dispute: PaymentDispute) -> bool:
        """Keep `dispute` on the order unless it holds a newer dispute, or a later stage of
        the same one; False if nothing changed."""
        ...


class PaymentGateway(Protocol):
    def create_payment_intent(
        self, amount: int, currency: str, metadata: dict[str, str], idempotency_key: str
    ) -> PaymentIntent: ...

    def cancel_payment_intent(self, intent_id: str, idempotency_key: str) -> None: ...

    def client_secret(self, intent_id: str) -> str: ...

    def refund(self, intent_id: str, amount: int, idempotency_key: str) -> Refund: ...


class ReferralLookup(Protocol):
    def find(self, merchant_id: str, codes: list[str]) -> list[Referral]:
        """The merchant's referrals (links' refs and codes) among `codes`, in one read."""


class CheckoutLimits(Protocol):
    def checkout(self, merchant_id: str) -> CheckoutSettings:
        """The merchant's checkout limits (all unset if never changed)."""
        ...


@dataclass(frozen=True)
class Sales:
    """What the sale's use cases need, wired by the composition root."""

    orders: OrderStore
    products: ProductStore
    posts: PostStore
    payments: PaymentGateway
    vault: CustomerVault
    clock: Clock
    limits: CheckoutLimits
    digests: Digests
    reservation_minutes: int = 30
    stack_id: str = "shoppable"  # marks this stack's PaymentIntents (see services/payments.py)
    event_wait_attempts: int = 4  # deliveries of a Stripe event that may wait for its order
    referrals: ReferralLookup | None = None  # creators' links and codes (domain/attribution.py)
    attribution_window: timedelta = DEFAULT_WINDOW


class NotEnoughStock(Conflict):
    code = "out_of_stock"


def invalid_transition(order: Order, target: OrderStatus) -> Conflict:
    return Conflict(
        f"An order that is {order.status} cannot become {target}.", code="invalid_transition"
    )


def order_event(
    sales: Sales,
    order: Order,
    kind: str,
    previous: OrderStatus | None = None,
    amount: int | None = None,
) -> Event:
    """An order's event: ids, states, amounts and the customer token; never personal data."""
    if amount is None and kind == "disputed" and order.dispute is not None:
        amount = order.dispute.amount  # what the chargeback holds back (commissions read it)
    return new_event(
        sales.clock.new_id(Prefix.EVENT),
        EventType(f"order.{kind}"),
        order.merchant_id,
        order.id,
        OrderEventData(
            order_id=order.id,
            status=order.status,
            previous_status=previous,
            source=order.source,
            currency=order.amounts.currency,
            total=order.amounts.total,
            refunded=order.amounts.refunded,
            amount=amount,
            customer_token=order.customer.token if order.customer else None,
            post_id=order.post_id,
            reason=order.history[-1].reason if order.history else None,
            attribution=order.attribution,
        ),
        sales.clock.now(),
    )


def move(
    sales: Sales,
    order: Order,
    target: OrderStatus,
    *,
    stock: StockMove | None = None,
    sources: frozenset[OrderStatus] | None = None,
    reason: str | None = None,
    update: OrderUpdate | None = None,
    event: str | None = None,
) -> Order:
    """Move the order to `target`; 409 `invalid_transition` if its status does not allow it,
    409 `out_of_stock` if `stock` needs units that are no longer available."""
    change = StatusChange(status=target, at=sales.clock.now(), reason=reason)
    moved = transitioned(order, change, update)
    announced = order_event(sales, moved, event or target.value, previous=order.status)
    try:
        sales.orders.move(
            order, change, sources or allowed_sources(target), stock, update, announced
        )
    except OutOfStock as short:
        line = order.lines[short.line_index]
        raise NotEnoughStock(f"Not enough stock of {line.sku}.", param="lines") from short
    except ConcurrentUpdate as changed:
        current = sales.orders.get(order.id) or order
        raise invalid_transition(current, target) from changed
    return moved


def identify_buyer(
    sales: Sales,
    merchant_id: str,
    customer: CustomerCreate,
    order_id: str,
    by: str,
    consent: ConsentGiven | None = None,
) -> BuyerRef:
    """The buyer's data goes to the vault as this order's own snapshot (an existing customer's
    record is never changed by it); the order keeps the token and masked values."""
    caller = Caller.service(merchant_id, by, frozenset({Scope.CUSTOMERS_WRITE}))
    found = sales.vault.identify(caller, customer, order_id, consent)
    return BuyerRef(token=found.token, email=found.masked.email, name=found.masked.name)


def owned_order(sales: Sales, merchant_id: str, order_id: str) -> Order:
    return owned(sales.orders.get, Prefix.ORDER, merchant_id, order_id, "order")


def get_order(sales: Sales, merchant_id: str, order_id: str) -> OrderView:
    return _with_buyers(sales, merchant_id, [owned_order(sales, merchant_id, order_id)])[0]


def list_orders(
    sales: Sales,
    merchant_id: str,
    limit: int,
    cursor: str | None,
    status: OrderStatus | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> tuple[list[OrderView], str | None]:
    found, next_cursor = sales.orders.page(
        merchant_id, limit, cursor, status, _utc(created_from), _utc(created_to)
    )
    return _with_buyers(sales, merchant_id, found), next_cursor


def _with_buyers(sales: Sales, merchant_id: str, found: list[Order]) -> list[OrderView]:
    """Orders as the merchant sees them: a buyer erased from the vault shows as erased, with
    the masked values the order kept dropped too."""
    tokens = [o.customer.token for o in found if o.customer]
    caller = Caller.service(merchant_id, "orders", frozenset())
    erased = {
        s.token
        for s in (sales.vault.describe(caller, tokens) if tokens else [])
        if s.status == "erased"
    }
    views = []
    for order in found:
        if order.customer and order.customer.token in erased:
            order = order.model_copy(
                update={"customer": BuyerRef(token=order.customer.token, erased=True)}
            )
        views.append(order_view(order))
    return views


def _utc(moment: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def fulfill(sales: Sales, merchant_id: str, order_id: str, request: FulfillRequest) -> OrderView:
    order = owned_order(sales, merchant_id, order_id)
    fulfillment = Fulfillment(
        carrier=request.carrier,
        tracking_number=request.tracking_number,
        fulfilled_at=sales.clock.now(),
    )
    moved = move(sales, order, OrderStatus.FULFILLED, update=OrderUpdate(fulfillment=fulfillment))
    return order_view(moved)


def cancel(sales: Sales, merchant_id: str, order_id: str, request: CancelRequest) -> OrderView:
    """Unpaid: the stock is released and the payment stopped. Paid: refunded in full, then
    the units go back into stock."""
    order = owned_order(sales, merchant_id, order_id)
    reason = request.reason or "cancelled by the merchant"
    if order.status == OrderStatus.PENDING_PAYMENT:
        moved = move(
            sales,
            order,
            OrderStatus.CANCELLED,
            stock=StockMove.RELEASE,
            sources=frozenset({OrderStatus.PENDING_PAYMENT}),
            reason=reason,
        )
        stop_payment(sales, moved)
        return order_view(moved)
    if order.status != OrderStatus.PAID:
        raise invalid_transition(order, OrderStatus.CANCELLED)
    refund_in_stripe(sales, order, order.refundable, f"cancel-{order.id}")
    try:
        moved = move(
            sales,
            order,
            OrderStatus.CANCELLED,
            stock=StockMove.RESTOCK,
            sources=frozenset({OrderStatus.PAID}),
            reason=reason,
            update=OrderUpdate(amounts=fully_refunded(order.amounts)),
        )
    except Conflict:
        # Shipped or changed meanwhile: the money is back with the buyer all the same.
        record_refund(sales, sales.orders.get(order.id) or order, order.amounts.total)
        raise
    return order_view(moved)


def record_refund(sales: Sales, order: Order, refunded: int) -> None:
    """Record a refund Stripe already made (`refunded` in total), whatever the order's state."""
    target = refund_outcome(order.amounts.total, refunded)
    status = target if can_transition(order.status, target) else order.status
    change = StatusChange(status=status, at=sales.clock.now(), reason="refunded in Stripe")
    sales.orders.record_refunded_total(order, refunded, change)
    current = sales.orders.get(order.id) or order
    announce_refund(sales, current, refunded, refunded - order.amounts.refunded)


def announce_refund(sales: Sales, order: Order, refunded: int, amount: int) -> None:
    """`order.refunded` or `order.partially_refunded`, once per refunded total, whichever of
    our refund call and Stripe's `charge.refunded` gets here first."""
    if refunded <= 0:
        return
    kind = refund_outcome(order.amounts.total, refunded).value
    amounts = order.amounts.model_copy(update={"refunded": refunded})
    announced = order.model_copy(update={"amounts": amounts})
    event = order_event(sales, announced, kind, amount=amount if amount > 0 else None)
    sales.orders.announce_refund(order.id, refunded, event)


def refund(
    sales: Sales,
    merchant_id: str,
    order_id: str,
    request: RefundRequest,
    idempotency_key: str | None = None,
) -> OrderView:
    """Full or partial. The amount is first held on the order with a condition, so two
    concurrent refunds can never exceed what was paid; a failed Stripe call gives it back."""
    order = owned_order(sales, merchant_id, order_id)
    if order.status not in PAID_STATES:
        raise invalid_transition(order, OrderStatus.REFUNDED)
    amount = request.amount if request.amount is not None else order.refundable
    if amount < 1 or amount > order.refundable:
        raise ValidationFailed(
            f"At most {order.refundable} can still be refunded.",
            code="amount_too_large",
            param="amount",
        )
    target = refund_outcome(order.amounts.total, order.amounts.refunded + amount)
    change = StatusChange(status=target, at=sales.clock.now(), reason=request.reason)
    try:
        sales.orders.add_refund(order, amount, change)
    except ConcurrentUpdate as changed:
        raise Conflict(
            "The order changed meanwhile (another refund or a status change); read it again.",
            code="concurrent_update",
        ) from changed
    key = idempotency_key or f"refund-{order.id}-{order.amounts.refunded}-{amount}"
    try:
        refund_in_stripe(sales, order, amount, key)
    except ShoppableError:
        sales.orders.undo_refund(order, amount, order.status, f"refund of {amount} failed")
        raise
    amounts = order.amounts.model_copy(update={"refunded": order.amounts.refunded + amount})
    refunded = transitioned(order, change, OrderUpdate(amounts=amounts))
    announce_refund(sales, refunded, amounts.refunded, amount)
    return order_view(refunded)


def refund_in_stripe(sales: Sales, order: Order, amount: int, idempotency_key: str) -> None:
    if order.payment_intent_id is None:
        raise Conflict("The order has no payment to refund.", code="invalid_transition")
    sales.payments.refund(order.payment_intent_id, amount, idempotency_key)


def stop_payment(sales: Sales, order: Order) -> None:
    """Cancel the PaymentIntent of an order that will not be paid. If it was paid meanwhile,
    the payment's webhook refunds it (see payments.payment_succeeded)."""
    if order.payment_intent_id is None:
        return
    try:
        sales.payments.cancel_payment_intent(order.payment_intent_id, f"stop-{order.id}")
    except ShoppableError:
        logger.warning("payment intent not cancelled", extra={"order_id": order.id})


def expire_reservations(sales: Sales) -> int:
    """Release the stock of orders still unpaid when their reservation ran out."""
    expired = 0
    for order_id in sales.orders.awaiting_payment_until(sales.clock.now()):
        order = sales.orders.get(order_id)
        if order is None or order.status != OrderStatus.PENDING_PAYMENT:
            continue
        try:
            moved = move(
                sales,
                order,
                OrderStatus.EXPIRED,
                stock=StockMove.RELEASE,
                sources=frozenset({OrderStatus.PENDING_PAYMENT}),
                reason="reservation expired",
            )
        except Conflict:
            continue  # paid or cancelled meanwhile
        stop_payment(sales, moved)
        expired += 1
    if expired:
        logger.info("reservations expired", extra={"orders": expired})
    return expired
