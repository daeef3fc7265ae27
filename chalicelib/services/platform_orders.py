"""Orders sold on a platform (TikTok Shop, Meta Shops) become ordinary Shoppable orders.

They go through the same code as a storefront checkout: the order is written with its stock
reserved in one transaction (`OrderRepository.place`), the buyer's data goes to the vault and
only the token stays, and the platform's payment moves it to `paid` with the stock committed
(`orders.move`). The order's id is derived from the platform's, so an import repeated by a
redelivered message, or by the next scheduled pull, finds the order it made the first time and
carries on from where it stopped. Later platform states (shipped, delivered, cancelled) move
the order forward through the same state machine; reports that arrive late change nothing.
"""

import hashlib

from pydantic import ValidationError

from ..domain.catalog import Variant
from ..domain.customers import ShippingAddress
from ..domain.errors import AlreadyExists, OutOfStock
from ..domain.inbound import OrderStatusChanged
from ..domain.inventory import StockMove
from ..domain.money import Money
from ..domain.orders import (
    Amounts,
    BuyerRef,
    Order,
    OrderLine,
    OrderStatus,
    OrderUpdate,
    Source,
    StatusChange,
)
from ..domain.platform_orders import PlatformOrder, catch_up
from ..errors import Conflict, ValidationFailed
from ..observability import logger
from ..vault.models import CustomerCreate
from .orders import NotEnoughStock, Sales, identify_buyer, move, publish
from .social import Social


class UnknownSku(ValidationFailed):
    code = "unknown_sku"


def order_id_for(platform: str, external_id: str) -> str:
    return "ord_" + hashlib.sha256(f"{platform}:{external_id}".encode()).hexdigest()[:24]


def import_or_update(sales: Sales, merchant_id: str, found: PlatformOrder) -> Order | None:
    """Bring our copy of a platform order to the platform's state; None if not imported."""
    order = sales.orders.get(order_id_for(found.platform, found.external_id))
    if order is None:
        if found.status in (None, OrderStatus.CANCELLED):
            logger.info("platform order not imported yet", extra={"status": found.status})
            return None
        order = _place(sales, merchant_id, found)
    if order.merchant_id != merchant_id:
        raise Conflict("The platform order belongs to another merchant.")
    if order.status == OrderStatus.PENDING_PAYMENT and found.status is not None:
        order = _paid(sales, order, found)
    for target in catch_up(order.status, found.status) if found.status else []:
        order = _advance(sales, order, target, found.platform)
    return order


def _place(sales: Sales, merchant_id: str, found: PlatformOrder) -> Order:
    variants = _variants_by_sku(sales, merchant_id)
    lines = []
    for index, line in enumerate(found.lines):
        variant = variants.get(line.sku)
        if variant is None:
            raise UnknownSku(f"No variant has the SKU '{line.sku}'.", param=f"lines[{index}]")
        lines.append((variant, line))
    products = {p.id: p for p in sales.products.products([v.product_id for v, _ in lines])}
    order_lines = [
        OrderLine(
            variant_id=v.id, product_id=v.product_id, sku=v.sku,
            title=products[v.product_id].title, options=v.options, quantity=line.quantity,
            unit_price=Money(amount=line.unit_price, currency=found.currency),
            total=Money(amount=line.unit_price * line.quantity, currency=found.currency),
        )
        for v, line in lines
    ]  # fmt: skip
    subtotal = sum(line.total.amount for line in order_lines)
    now = sales.clock.now()
    order = Order(
        id=order_id_for(found.platform, found.external_id),
        merchant_id=merchant_id,
        source=Source(found.platform),
        status=OrderStatus.PENDING_PAYMENT,
        lines=order_lines,
        amounts=Amounts(currency=found.currency, subtotal=subtotal, total=subtotal),
        history=[StatusChange(status=OrderStatus.PENDING_PAYMENT, at=now)],
        created_at=now,
        expires_at=now,  # paid on the platform: never held waiting for a payment
        notes=[f"{found.platform} order {found.external_id}"],
    )
    try:
        sales.orders.place(order)
    except AlreadyExists:  # imported meanwhile by another delivery
        return sales.orders.get(order.id) or order
    except OutOfStock as short:
        sku = order_lines[short.line_index].sku
        raise NotEnoughStock(f"Not enough stock of {sku} for a {found.platform} order.") from short
    publish(sales, order, "created")
    return order


def _paid(sales: Sales, order: Order, found: PlatformOrder) -> Order:
    buyer = _identify_buyer(sales, order, found)
    try:
        return move(
            sales, order, OrderStatus.PAID, stock=StockMove.COMMIT,
            sources=frozenset({OrderStatus.PENDING_PAYMENT}),
            reason=f"paid on {found.platform}",
            update=OrderUpdate(customer=buyer) if buyer else None,
        )  # fmt: skip
    except Conflict:
        return sales.orders.get(order.id) or order


def _advance(sales: Sales, order: Order, target: OrderStatus, platform: str) -> Order:
    stock = StockMove.RESTOCK if target == OrderStatus.CANCELLED else None
    try:
        return move(sales, order, target, stock=stock, sources=frozenset({order.status}),
                    reason=f"{target} on {platform}")  # fmt: skip
    except Conflict:
        return sales.orders.get(order.id) or order


def _identify_buyer(sales: Sales, order: Order, found: PlatformOrder) -> BuyerRef | None:
    """The buyer to the vault. Platforms mask some fields (TikTok's phone numbers): what does
    not validate is left out, and never logged."""
    buyer = dict(found.buyer or {})
    try:
        address = ShippingAddress.model_validate(found.shipping_address or {})
    except ValidationError:
        address = None
    fields = {"email": buyer.get("email") or "", "name": buyer.get("name") or ""}
    customer = None
    for phone in (buyer.get("phone"), None):  # masked phone numbers are left out
        try:
            customer = CustomerCreate(**fields, phone=phone, shipping_address=address)
            break
        except ValidationError:
            continue
    if customer is None:
        logger.warning("platform buyer not tokenized: email or name missing")
        return None
    return identify_buyer(sales, order.merchant_id, customer, order.id, f"{found.platform}-orders")


def _variants_by_sku(sales: Sales, merchant_id: str) -> dict[str, Variant]:
    """The merchant's variants by SKU, read through the catalog's pages (no SKU index yet)."""
    found: dict[str, Variant] = {}
    cursor = None
    while True:
        products, cursor = sales.products.page(merchant_id, 100, cursor)
        variant_ids = [vid for p in products for vid in p.variant_ids]
        found.update({v.sku: v for v in sales.products.variants(variant_ids)})
        if cursor is None:
            return found


# The consumer and the schedule


def order_status_changed(social: Social, merchant_id: str, event: OrderStatusChanged) -> None:
    """The webhook carries the id and a status; the order itself is fetched, so the status
    applied is always the current one, whatever order the notifications arrive in."""
    found = social.platforms.order_lookup(event.source).order(event.order_id)
    import_or_update(social.sales, merchant_id, found)


def pull_meta_orders(social: Social) -> int:
    """Meta Shops has no order webhook: import each commerce account's new orders, then
    acknowledge them (idempotently) so that Meta moves them to IN_PROGRESS."""
    feed = social.platforms.order_feed("meta")
    imported = 0
    for cms_id in social.settings.meta_commerce_accounts:
        connection = social.connections.for_account(
            "facebook", cms_id
        ) or social.connections.for_account("instagram", cms_id)
        if connection is None:
            logger.warning("commerce account not connected", extra={"account_id": cms_id})
            continue
        for found in feed.new_orders(cms_id, connection.platform):
            try:
                order = import_or_update(social.sales, connection.merchant_id, found)
                if order is not None:
                    feed.acknowledge_order(found, order.id)
                    imported += 1
            except Exception:  # one bad order must not hold the others; the next pull retries
                logger.exception("meta order not imported", extra={"meta_order": found.external_id})
    return imported
