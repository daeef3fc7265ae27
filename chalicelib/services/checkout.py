"""Checkout: from a buyer's cart to an order awaiting payment, with its stock held.

Order of work: validate the lines against the catalog and price them on the server, and
against the merchant's limits (units per line and per order); decide which creator the order
is owed to, if the request names a code or a link (one batch read, domain/attribution.py);
write the order, reserve every line's stock and count the order in its client's and buyer's
holds (when the merchant caps unpaid checkouts) in one transaction; hand the buyer's personal
data to the vault as this order's snapshot (only the token comes back; a customer the email
already names is never changed by an anonymous checkout); create the Stripe PaymentIntent;
attach both to the order. Reserving first means a buyer who loses a race for the last units
leaves nothing behind, not even their data in the vault; if a later step fails, the order is
discarded and its stock and holds released in one transaction, and what the vault was given
for it is taken back out (the snapshot and consent, and the customer if this checkout filed
them).
"""

import hmac
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain.attribution import Attribution, attribute
from ..domain.catalog import Variant
from ..domain.errors import AlreadyExists, ConcurrentUpdate, HoldLimitReached, OutOfStock
from ..domain.ids import Prefix, has_prefix
from ..domain.merchants import CheckoutSettings
from ..domain.orders import (
    MAX_LINES,
    BuyerRef,
    CheckoutRequest,
    CheckoutStatus,
    CheckoutView,
    Hold,
    Order,
    OrderStatus,
    StatusChange,
    check_quantities,
    client_secret_digest,
    price_lines,
)
from ..domain.payments import STACK_KEY
from ..domain.posts import Post, is_visible_in_storefront
from ..domain.scopes import Scope
from ..errors import NotFound, RateLimited, ShoppableError, ValidationFailed
from ..observability import logger
from ..vault.blind_index import normalise_email
from ..vault.models import Caller, ConsentGiven, CustomerCreate
from .orders import NotEnoughStock, Sales, identify_buyer, order_event
from .ports import Digests


@dataclass(frozen=True)
class Client:
    """Who is checking out, as far as the request tells: its address, and the device id the
    storefront may send (`X-Device-Id`). Only keyed digests of them are ever stored."""

    ip: str | None = None
    device: str | None = None


class TooManyOpenCheckouts(RateLimited):
    code = "too_many_open_checkouts"


def checkout(sales: Sales, request: CheckoutRequest, client: Client | None = None) -> CheckoutView:
    client = client or Client()
    if len(request.lines) > MAX_LINES:
        raise ValidationFailed(
            f"A checkout holds at most {MAX_LINES} lines.", code="too_many_lines", param="lines"
        )
    variants = {v.id: v for v in sales.products.variants(
        [line.variant_id for line in request.lines if has_prefix(line.variant_id, Prefix.VARIANT)]
    )}  # fmt: skip
    merchant_id = _one_merchant(request, variants)
    post = _check_post(sales, request, merchant_id)
    limits = sales.limits.checkout(merchant_id)
    over = check_quantities(request.lines, limits.max_quantity_per_line, limits.max_units_per_order)
    if over is not None:
        param, message = over
        raise ValidationFailed(message, code="quantity_limit", param=param)
    products = {p.id: p for p in sales.products.products(
        [v.product_id for v in variants.values() if v.product_title is None]
    )}  # fmt: skip
    try:
        lines, amounts = price_lines(request.lines, variants, products)
    except ValueError as error:
        raise ValidationFailed(str(error), code="mixed_currencies", param="lines") from error

    now = sales.clock.now()
    holds = _holds(sales, merchant_id, request, client, limits)
    hold_minutes = limits.hold_minutes or sales.reservation_minutes
    order = Order(
        id=sales.clock.new_id(Prefix.ORDER),
        merchant_id=merchant_id,
        post_id=request.post_id,
        status=OrderStatus.PENDING_PAYMENT,
        lines=lines,
        amounts=amounts,
        history=[StatusChange(status=OrderStatus.PENDING_PAYMENT, at=now)],
        created_at=now,
        expires_at=now + timedelta(minutes=hold_minutes),
        holds=[hold.key for hold in holds],
        attribution=_attribution(sales, request, merchant_id, post, now),
    )
    try:
        sales.orders.place(order, holds)
    except OutOfStock as short:
        variant = variants[request.lines[short.line_index].variant_id]
        # Never the count: the public would learn the stock by asking.
        raise NotEnoughStock(
            f"Not enough {variant.sku} in stock for this quantity.",
            param=f"lines[{short.line_index}].quantity",
        ) from short
    except HoldLimitReached as capped:
        raise TooManyOpenCheckouts(
            f"This {holds[capped.hold_index].kind} already holds as many unpaid checkouts as "
            "this shop allows; pay for one or let it expire first."
        ) from capped
    except AlreadyExists:
        # The order's id is new to this call, so an earlier attempt of this same write was
        # applied (whole: it is a transaction) and its answer lost, then retried by the SDK.
        # The order is placed and its stock held.
        pass

    customer = _customer(request)
    try:
        buyer = identify_buyer(
            sales, merchant_id, customer, order.id, "checkout", _consent(request)
        )
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
        try:
            # Already released: by the expiry schedule, or by an earlier attempt of this
            # discard whose answer was lost. The buyer gets the error that stopped the checkout.
            with suppress(ConcurrentUpdate):
                sales.orders.discard(order)
        finally:
            _forget_buyer(sales, merchant_id, customer, order.id)
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


def _holds(
    sales: Sales,
    merchant_id: str,
    request: CheckoutRequest,
    client: Client,
    limits: CheckoutSettings,
) -> list[Hold]:
    """The counters this checkout counts in, by the merchant's caps."""
    holds: list[Hold] = []
    per_client = limits.max_open_checkouts_per_client
    if per_client is not None:
        for kind, value in (("ip", client.ip), ("device", client.device)):
            if value:
                key = sales.digests.of("hold", merchant_id, kind, value)
                holds.append(Hold(key=key, cap=per_client, kind="client"))
    if limits.max_open_checkouts_per_email is not None:
        email = normalise_email(request.customer.email)
        key = sales.digests.of("hold", merchant_id, "email", email)
        holds.append(Hold(key=key, cap=limits.max_open_checkouts_per_email, kind="email"))
    return holds


def _customer(request: CheckoutRequest) -> CustomerCreate:
    buyer = request.customer
    return CustomerCreate(
        email=buyer.email,
        name=buyer.name,
        phone=buyer.phone,
        shipping_address=request.shipping_address,
    )


def _consent(request: CheckoutRequest) -> ConsentGiven | None:
    buyer = request.customer
    if not buyer.marketing_consent:
        return None
    return ConsentGiven(source="checkout", text_version=buyer.consent_text_version or "unversioned")


def _forget_buyer(sales: Sales, merchant_id: str, customer: CustomerCreate, order_id: str) -> None:
    """A failed checkout leaves nothing in the vault (best effort: the failure being reported
    is the checkout's, not this one's)."""
    caller = Caller.service(merchant_id, "checkout", frozenset({Scope.CUSTOMERS_WRITE}))
    try:
        sales.vault.forget_order(caller, customer.email, order_id)
    except ShoppableError as error:
        logger.error(
            "failed checkout's buyer not taken out of the vault",
            extra={"order_id": order_id, "code": error.code},
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


def _check_post(sales: Sales, request: CheckoutRequest, merchant_id: str) -> Post | None:
    if request.post_id is None:
        return None
    post = sales.posts.get(request.post_id) if has_prefix(request.post_id, Prefix.POST) else None
    if post is None or post.merchant_id != merchant_id or not is_visible_in_storefront(post):
        raise ValidationFailed(
            f"No such post: '{request.post_id}'.", code="resource_missing", param="post_id"
        )
    return post


def _attribution(
    sales: Sales, request: CheckoutRequest, merchant_id: str, post: Post | None, now: datetime
) -> Attribution | None:
    """The creator the order is owed to (domain/attribution.py). Only a checkout that names
    a code or a link costs a read, one for both; a code or ref the merchant does not have is
    ignored, never refused: a stale link must not stop a sale."""
    claim = request.attribution
    named = [code for code in (request.referral_code, claim.ref if claim else None) if code]
    found = (
        {r.code: r for r in sales.referrals.find(merchant_id, named)}
        if named and sales.referrals is not None
        else {}
    )
    code = found.get(request.referral_code) if request.referral_code else None
    link = found.get(claim.ref) if claim else None
    click = (link, claim.clicked_at or now, claim.platform) if claim and link else None
    collab = post.creator_id if post is not None else None
    return attribute(code, click, collab, now, sales.attribution_window)


def idempotency_scope(sales: Sales, request: CheckoutRequest, digests: Digests) -> str:
    """Whose Idempotency-Keys a public checkout shares: the shop's and the buyer's. Nobody can
    claim a key another shop's storefront, or another buyer, is going to send (the buyer only
    as a keyed digest of the normalised email)."""
    first = request.lines[0].variant_id
    found = sales.products.variants([first]) if has_prefix(first, Prefix.VARIANT) else []
    shop = found[0].merchant_id if found else "unknown"
    return f"checkout:{shop}:{digests.of('buyer', normalise_email(request.customer.email))}"


@dataclass(frozen=True)
class Restored:
    client_secret: str
    customer: BuyerRef


def restore(sales: Sales, order_id: str, intent_id: str) -> Restored:
    """What a replayed checkout answer needs and its stored copy does not keep: the
    client_secret (asked of Stripe again) and the buyer as the order shows them now."""
    order = sales.orders.get(order_id)
    if order is None or order.customer is None:
        raise NotFound(f"No such order: '{order_id}'.", param="order_id")
    return Restored(sales.payments.client_secret(intent_id), order.customer)


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
