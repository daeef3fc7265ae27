"""Orders: checkout requests, amounts computed on the server, and the order state machine.

    pending_payment ─▶ paid ─▶ fulfilled ─▶ delivered
          │              │          (any paid state) ─▶ refunded / partially_refunded / disputed
          ├─▶ payment_failed ─┐
          ├─▶ expired ────────┼─▶ paid   (a late payment, if the stock can be reserved again)
          └─▶ cancelled       ┘
    paid ─▶ cancelled (with a full refund)

Every transition is a conditional write on the order's current status, so that two
concurrent transitions cannot both win; the table of allowed sources lives here.
"""

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from .attribution import Attribution, AttributionClaim, ReferralCode
from .base import Model
from .catalog import Product, Variant
from .claims import CancellationRequest, PaymentDispute
from .customers import Email, Line, Phone, ShippingAddress, Short
from .fields import ObjectId, Title
from .money import Money

# One DynamoDB transaction holds at most 100 items: the order plus one item per line.
MAX_LINES = 99
MAX_QUANTITY = 1000


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    FULFILLED = "fulfilled"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    PAYMENT_FAILED = "payment_failed"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    DISPUTED = "disputed"


S = OrderStatus
PAID_STATES = frozenset({S.PAID, S.FULFILLED, S.DELIVERED, S.PARTIALLY_REFUNDED})
# States whose stock is no longer held for the order.
RELEASED_STATES = frozenset({S.PAYMENT_FAILED, S.EXPIRED, S.CANCELLED})

# target status -> the statuses it may be reached from
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    # From a released state only when a late payment can reclaim the stock.
    S.PAID: frozenset({S.PENDING_PAYMENT, S.PAYMENT_FAILED, S.EXPIRED}),
    S.PAYMENT_FAILED: frozenset({S.PENDING_PAYMENT}),
    S.EXPIRED: frozenset({S.PENDING_PAYMENT}),
    S.CANCELLED: frozenset({S.PENDING_PAYMENT, S.PAID}),
    S.FULFILLED: frozenset({S.PAID, S.PARTIALLY_REFUNDED}),
    S.DELIVERED: frozenset({S.FULFILLED}),
    # From a released state when a late payment found no stock and was refunded.
    S.REFUNDED: PAID_STATES | RELEASED_STATES | {S.DISPUTED},
    S.PARTIALLY_REFUNDED: PAID_STATES,
    S.DISPUTED: PAID_STATES,
}


def allowed_sources(target: OrderStatus) -> frozenset[OrderStatus]:
    return TRANSITIONS.get(target, frozenset())


def can_transition(current: OrderStatus, target: OrderStatus) -> bool:
    return current in allowed_sources(target)


class Source(StrEnum):
    STOREFRONT = "storefront"
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"


# Requests


class CheckoutLine(Model):
    model_config = ConfigDict(extra="forbid")

    variant_id: ObjectId
    quantity: int = Field(ge=1, le=MAX_QUANTITY)


class Buyer(Model):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Line
    phone: Phone | None = None
    marketing_consent: bool = False
    consent_text_version: Short | None = Field(
        None, description="Which wording of the marketing consent the buyer agreed to."
    )


class CheckoutRequest(Model):
    """The buyer's personal data (`customer`, `shipping_address`) goes to the vault and only
    its token is kept with the order. Prices are never taken from the client."""

    model_config = ConfigDict(extra="forbid")

    post_id: ObjectId | None = None
    lines: Annotated[list[CheckoutLine], Field(min_length=1, max_length=10_000)]
    customer: Buyer
    shipping_address: ShippingAddress
    referral_code: ReferralCode | None = Field(
        None, description="a creator's referral code the buyer typed (beats any link)"
    )
    attribution: AttributionClaim | None = Field(
        None, description="the creator's link the shopper arrived by (`ref` of the page's URL)"
    )

    @model_validator(mode="after")
    def _one_line_per_variant(self) -> "CheckoutRequest":
        seen: set[str] = set()
        for index, line in enumerate(self.lines):
            if line.variant_id in seen:
                raise ValueError(
                    f"lines[{index}] repeats a variant; put its whole quantity on one line"
                )
            seen.add(line.variant_id)
        return self


class CheckoutStatusQuery(Model):
    """The buyer proves it placed the checkout with the PaymentIntent's `client_secret`."""

    model_config = ConfigDict(extra="forbid")

    client_secret: Annotated[str, Field(max_length=255)] | None = None


class OrderQuery(Model):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(None, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2048)
    status: OrderStatus | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


class FulfillRequest(Model):
    model_config = ConfigDict(extra="forbid")

    carrier: Title
    tracking_number: Annotated[str, Field(min_length=1, max_length=100)]


class RefundRequest(Model):
    """Without `amount`, refunds whatever has not been refunded yet."""

    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(None, ge=1)
    reason: Literal["requested_by_customer", "duplicate", "fraudulent"] | None = None


class CancelRequest(Model):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(max_length=500)] | None = None


# The order


class OrderLine(Model):
    variant_id: str
    product_id: str
    sku: str
    title: str
    options: dict[str, str] = {}
    quantity: int
    unit_price: Money
    total: Money


class Amounts(Model):
    currency: str
    subtotal: int
    total: int
    refunded: int = 0


class BuyerRef(Model):
    """How an order refers to its buyer: the vault token and masked display values only."""

    token: str
    email: str | None = None
    name: str | None = None
    erased: bool = False


class Fulfillment(Model):
    carrier: str
    tracking_number: str
    fulfilled_at: datetime


class StatusChange(Model):
    status: OrderStatus
    at: datetime
    reason: str | None = None


class Order(Model):
    model_config = ConfigDict(extra="forbid")

    object: Literal["order"] = "order"
    id: str
    merchant_id: str
    source: Source = Source.STOREFRONT
    post_id: str | None = None
    status: OrderStatus
    lines: list[OrderLine]
    amounts: Amounts
    customer: BuyerRef | None = None
    payment_intent_id: str | None = None
    fulfillment: Fulfillment | None = None
    history: list[StatusChange]
    created_at: datetime
    expires_at: datetime
    notes: list[str] = []
    disputed_from: OrderStatus | None = None
    holds: list[str] = Field(
        default_factory=list,
        description="The counters of unpaid checkouts this order counts in (keyed digests of "
        "its client and buyer), released when it stops awaiting payment.",
    )
    # A claim the merchant must see: the buyer's request to cancel on the platform that sold
    # the order, and a payment dispute or inquiry (see domain/claims.py).
    cancellation: CancellationRequest | None = None
    dispute: PaymentDispute | None = None
    # The creator the sale is owed to (domain/attribution.py), decided once at checkout.
    attribution: Attribution | None = None

    @property
    def refundable(self) -> int:
        return self.amounts.total - self.amounts.refunded


class OrderView(Model):
    object: Literal["order"] = "order"
    id: str
    source: Source
    post_id: str | None
    status: OrderStatus
    lines: list[OrderLine]
    amounts: Amounts
    customer: BuyerRef | None
    payment_intent_id: str | None
    fulfillment: Fulfillment | None
    history: list[StatusChange]
    created_at: datetime
    expires_at: datetime
    notes: list[str]
    cancellation: CancellationRequest | None
    dispute: PaymentDispute | None
    attribution: Attribution | None = None


class OrderUpdate(Model):
    """What a status change writes besides the status and its history entry."""

    fulfillment: Fulfillment | None = None
    amounts: Amounts | None = None
    customer: BuyerRef | None = None
    disputed_from: OrderStatus | None = None
    dispute: PaymentDispute | None = None


def transitioned(order: Order, change: StatusChange, update: OrderUpdate | None = None) -> Order:
    """The order as it is after `change` (and `update`) are written."""
    fields = {name: getattr(update, name) for name in update.model_fields_set} if update else {}
    return order.model_copy(
        update={**fields, "status": change.status, "history": [*order.history, change]}
    )


def fully_refunded(amounts: Amounts) -> Amounts:
    return amounts.model_copy(update={"refunded": amounts.total})


def order_view(order: Order) -> OrderView:
    return OrderView.model_validate(order.model_dump(exclude={"merchant_id", "object", "holds"}))


class Hold(Model):
    """A counter of unpaid checkouts an order counts in, and the most it may reach."""

    key: str
    cap: int
    kind: Literal["client", "email"]


def check_quantities(
    lines: list[CheckoutLine], per_line: int | None, per_order: int | None
) -> tuple[str, str] | None:
    """(param, message) of the first limit the lines exceed, if any."""
    for index, line in enumerate(lines):
        if per_line is not None and line.quantity > per_line:
            return f"lines[{index}].quantity", f"At most {per_line} of one item per checkout."
    if per_order is not None and sum(line.quantity for line in lines) > per_order:
        return "lines", f"At most {per_order} items per checkout."
    return None


class CheckoutView(Model):
    object: Literal["checkout"] = "checkout"
    order_id: str
    status: OrderStatus
    lines: list[OrderLine]
    amounts: Amounts
    customer: BuyerRef
    client_secret: str
    payment_intent_id: str
    expires_at: datetime


class CheckoutStatus(Model):
    """All that the buyer's browser may read about its checkout once placed: no amounts, no
    buyer details, nothing that would tell a stranger more than the buyer already knows."""

    object: Literal["checkout"] = "checkout"
    order_id: str
    status: OrderStatus


class CheckoutAccess(Model):
    """What the status read needs of an order: its status, and the digest of its checkout's
    client_secret (None for orders imported from a platform, which have no checkout)."""

    status: OrderStatus
    secret_digest: str | None = None


def client_secret_digest(client_secret: str) -> str:
    """What an order keeps of its PaymentIntent's client_secret: enough to recognise it, not
    enough to pay with it."""
    return hashlib.sha256(client_secret.encode()).hexdigest()


def price_lines(
    lines: list[CheckoutLine], variants: dict[str, Variant], products: dict[str, Product]
) -> tuple[list[OrderLine], Amounts]:
    """Amounts from the catalog's prices, never the client's. One currency per order.
    A variant carries its product's title; `products` is needed only for one that does not."""
    priced = []
    for line in lines:
        variant = variants[line.variant_id]
        title = variant.product_title or products[variant.product_id].title
        priced.append(
            OrderLine(
                variant_id=variant.id,
                product_id=variant.product_id,
                sku=variant.sku,
                title=title,
                options=variant.options,
                quantity=line.quantity,
                unit_price=variant.price,
                total=Money(
                    amount=variant.price.amount * line.quantity, currency=variant.price.currency
                ),
            )
        )
    currencies = {line.unit_price.currency for line in priced}
    if len(currencies) != 1:
        raise ValueError("all lines of one checkout are priced in one currency")
    subtotal = sum(line.total.amount for line in priced)
    return priced, Amounts(currency=currencies.pop(), subtotal=subtotal, total=subtotal)


def refund_outcome(total: int, refunded: int) -> OrderStatus:
    return OrderStatus.REFUNDED if refunded >= total else OrderStatus.PARTIALLY_REFUNDED
