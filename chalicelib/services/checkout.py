"""Checkout: from a buyer's cart to an order awaiting payment, with its stock held.

Order of work: validate the lines against the catalog and price them on the server; write
the order and reserve every line's stock in one transaction; hand the buyer's personal data
to the vault (only the token comes back); create the Stripe PaymentIntent; attach both to the
order. Reserving first means a buyer who loses a race for the last units leaves nothing
behind, not even their data in the vault; if a later step fails, the order is discarded and
its stock released in one transaction.
"""

import hmac
from contextlib import suppress
from datetime import timedelta

from ..domain.catalog import Variant
from ..domain.errors import AlreadyExists, ConcurrentUpdate, OutOfStock
from ..domain.ids import Prefix, has_prefix
from ..domain.orders import (
    MAX_LINES,
    CheckoutRequest,
    CheckoutStatus,
    CheckoutView,
    Order,
    OrderStatus,
    StatusChange,
    client_secret_digest,
    price_lines,
)
from ..domain.payments import STACK_KEY
from ..domain.posts import is_visible_in_storefront
from ..errors import NotFound, ValidationFailed
from ..vault.models import CustomerCreate
from .orders import NotEnoughStock, Sales, order_event, tokenize_buyer


def checkout(sales: Sales, request: CheckoutRequest) -> CheckoutView:
    if len(request.lines) > MAX_LINES:
        raise ValidationFailed(
            f"A checkout holds at most {MAX_LINES} lines.", code="too_many_lines", param="lines"
        )
    variants = {v.id: v for v in sales.products.variants(
        [line.variant_id for line in request.lines if has_prefix(line.variant_id, Prefix.VARIANT)]
    )}  # fmt: skip
    merchant_id = _one_merchant(request, variants)
    _check_post(sales, request, merchant_id)
    products = {p.id: p for p in sales.products.products([v.product_id for v in variants.values()])}
    try:
        lines, amounts = price_lines(request.lines, variants, products)
    except ValueError as error:
        raise ValidationFailed(str(error), code="mixed_currencies", param="lines") from error

    now = sales.clock.now()
    order = Order(
        id=sales.clock.new_id(Prefix.ORDER),
        merchant_id=merchant_id,
        post_id=request.post_id,
        status=OrderStatus.PENDING_PAYMENT,
        lines=lines,
        amounts=amounts,
        history=[StatusChange(status=OrderStatus.PENDING_PAYMENT, at=now)],
        created_at=now,
        expires_at=now + timedelta(minutes=sales.reservation_minutes),
    )
    try:
        sales.orders.place(order)
    except OutOfStock as short:
        variant = variants[request.lines[short.line_index].variant_id]
        raise NotEnoughStock(
            f"Only {variant.available} of {variant.sku} left.",
            param=f"lines[{short.line_index}].quantity",
        ) from short
    except AlreadyExists:
        # The order's id is new to this call, so an earlier attempt of this same write was
        # applied (whole: it is a transaction) and its answer lost, then retried by the SDK.
        # The order is placed and its stock held.
        pass

    try:
        buyer = tokenize_buyer(sales, merchant_id, _customer(request), "checkout")
        intent = sales.payments.create_payment_intent(
            amounts.total, amounts.currency,
            metadata={"order_id": order.id, "merchant_id": merchant_id,
                      STACK_KEY: sales.stack_id},
            idempotency_key=f"checkout-{order.id}",
        )  # fmt: skip
        order = order.model_copy(update={"customer": buyer, "payment_intent_id": intent.id})
        # `order.created` goes out with the payment's attachment (the outbox, in the same
        # write): an order discarded before it was payable was never announced.
        sales.orders.attach_payment(
            order.id,
            intent.id,
            buyer,
            client_secret_digest(intent.client_secret),
            order_event(sales, order, "created"),
        )
    except Exception:
        # Already released: by the expiry schedule, or by an earlier attempt of this discard
        # whose answer was lost. The buyer gets the error that stopped the checkout.
        with suppress(ConcurrentUpdate):
            sales.orders.discard(order)
        raise
    return CheckoutView(
        order_id=order.id,
        status=order.status,
        lines=lines,
        amounts=amounts,
        customer=buyer,
        client_secret=intent.client_secret,
        payment_intent_id=intent.id,
        expires_at=order.expires_at,
    )


def _customer(request: CheckoutRequest) -> CustomerCreate:
    buyer = request.customer
    return CustomerCreate(
        email=buyer.email,
        name=buyer.name,
        phone=buyer.phone,
        shipping_address=request.shipping_address,
        marketing_consent=buyer.marketing_consent,
    )


def _one_merchant(request: CheckoutRequest, variants: dict[str, Variant]) -> str:
    merchants: set[str] = set()
    for index, line in enumerate(request.lines):
        variant = variants.get(line.variant_id)
        if variant is None:
            raise ValidationFailed(
                f"No such variant: '{line.variant_id}'.",
                code="resource_missing", param=f"lines[{index}].variant_id",
            )  # fmt: skip
        merchants.add(variant.merchant_id)
        if len(merchants) > 1:
            raise ValidationFailed(
                "All lines of one checkout come from one shop.",
                code="mixed_merchants", param=f"lines[{index}].variant_id",
            )  # fmt: skip
    return merchants.pop()


def _check_post(sales: Sales, request: CheckoutRequest, merchant_id: str) -> None:
    if request.post_id is None:
        return
    post = sales.posts.get(request.post_id) if has_prefix(request.post_id, Prefix.POST) else None
    if post is None or post.merchant_id != merchant_id or not is_visible_in_storefront(post):
        raise ValidationFailed(
            f"No such post: '{request.post_id}'.", code="resource_missing", param="post_id"
        )


def checkout_status(sales: Sales, order_id: str, client_secret: str | None) -> CheckoutStatus:
    """The buyer's own checkout, for a storefront polling until it is paid. The route is
    public, so the caller proves it placed the checkout with the PaymentIntent's client_secret
    (which only the buyer's browser and Stripe hold), compared in constant time with the digest
    the order keeps. Any other caller gets the same 404 as for an order that does not exist, and
    even the buyer learns only the status: no amounts, no personal data. It reads one item and
    never calls Stripe, so polling costs one DynamoDB read and cannot be used to load Stripe."""
    access = sales.orders.checkout_access(order_id) if has_prefix(order_id, Prefix.ORDER) else None
    kept = access.secret_digest if access else None
    offered = client_secret_digest(client_secret or "")
    if access is None or not kept or not hmac.compare_digest(offered, kept):
        raise NotFound(f"No such checkout: '{order_id}'.", param="id")
    return CheckoutStatus(order_id=order_id, status=access.status)
