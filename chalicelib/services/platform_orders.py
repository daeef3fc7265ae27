"""Orders sold on a platform (TikTok Shop, Meta Shops) become ordinary Shoppable orders.

They go through the same code as a storefront checkout: the order is written with its stock
reserved in one transaction (`OrderRepository.place`), the buyer's data goes to the vault and
only the token stays, and the platform's payment moves it to `paid` with the stock committed
(`orders.move`). The order's id is derived from the platform's, so an import repeated by a
redelivered message, or by the next scheduled pull, finds the order it made the first time and
carries on from where it stopped. Later platform states (shipped, delivered, cancelled) move
the order forward through the same state machine; reports that arrive late change nothing.
An order the platform reports unpaid (or on hold) is not imported until it is paid.

A buyer may ask the platform to cancel a paid order (TikTok's CANCELLATION_STATUS_CHANGE);
the request is kept on the order (`cancellation`), where the merchant sees it, and the
merchant answers it through the platform (`answer_cancellation`). The platform then cancels
the order or not, and says so with its own notifications, which move our copy as above.
"""

import hashlib
from datetime import UTC, datetime
from typing import Literal

from pydantic import ValidationError

from ..domain.catalog import Variant
from ..domain.channels import OversellPolicy
from ..domain.claims import CancellationRejection, CancellationRequest, CancellationStatus
from ..domain.connections import Connection, Platform
from ..domain.customers import ShippingAddress
from ..domain.engagement import EngagementKind, InboxItem, inbox_item_id
from ..domain.errors import AlreadyExists, OutOfStock, PlatformError
from ..domain.ids import Prefix
from ..domain.inbound import CancellationChanged, OrderStatusChanged
from ..domain.inventory import StockMove
from ..domain.money import Money
from ..domain.orders import (
    Amounts,
    BuyerRef,
    Order,
    OrderLine,
    OrderStatus,
    OrderUpdate,
    OrderView,
    Source,
    StatusChange,
)
from ..domain.outbound import EventType, PlatformOrderOversoldData, new_event
from ..domain.platform_orders import PlatformOrder, catch_up
from ..errors import Conflict, ServiceUnavailable, ValidationFailed
from ..observability import count, logger
from ..vault.models import CustomerCreate
from .connections import connection_for
from .orders import (
    NotEnoughStock,
    Sales,
    get_order,
    identify_buyer,
    move,
    order_event,
    owned_order,
)
from .social import Social


class UnknownSku(ValidationFailed):
    code = "unknown_sku"


def order_id_for(platform: str, external_id: str) -> str:
    return "ord_" + hashlib.sha256(f"{platform}:{external_id}".encode()).hexdigest()[:24]


def import_or_update(
    sales: Sales, merchant_id: str, found: PlatformOrder, backorder: bool = False
) -> Order | None:
    """Bring our copy of a platform order to the platform's state; None if not imported.
    `backorder`: place it even for stock no longer available (the merchant's setting)."""
    order = sales.orders.get(order_id_for(found.platform, found.external_id))
    if order is None:
        if found.status in (None, OrderStatus.CANCELLED):
            logger.info("platform order not imported yet", extra={"status": found.status})
            return None
        order = _place(sales, merchant_id, found, backorder)
    if order.merchant_id != merchant_id:
        raise Conflict("The platform order belongs to another merchant.")
    if order.status == OrderStatus.PENDING_PAYMENT and found.status is not None:
        order = _paid(sales, order, found)
    for target in catch_up(order.status, found.status) if found.status else []:
        order = _advance(sales, order, target, found.platform)
    return order


class Oversold(NotEnoughStock):
    """A platform order for stock already sold elsewhere: `skus` are the lines short."""

    def __init__(self, message: str, skus: list[str]):
        super().__init__(message)
        self.skus = skus


def _place(sales: Sales, merchant_id: str, found: PlatformOrder, backorder: bool = False) -> Order:
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
        sales.orders.place(order, event=order_event(sales, order, "created"), backorder=backorder)
    except AlreadyExists:  # imported meanwhile by another delivery
        return sales.orders.get(order.id) or order
    except OutOfStock as short:
        sku = order_lines[short.line_index].sku
        message = f"Not enough stock of {sku} for a {found.platform} order."
        raise Oversold(message, [sku]) from short
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


def order_status_changed(social: Social, connection: Connection, event: OrderStatusChanged) -> None:
    """The webhook carries the id and a status; the order itself is fetched (as the shop's own
    connection), so the status applied is always the current one, whatever order the
    notifications arrive in."""
    found = _platform_order(social, connection, event.order_id)
    if found is None:
        return
    try:
        import_or_update(social.sales, connection.merchant_id, found)
    except Oversold as short:
        oversold(social, connection, found, short.skus)


def oversold(social: Social, connection: Connection, found: PlatformOrder, skus: list[str]) -> None:
    """A platform order for stock already sold elsewhere (on the storefront, on another
    channel) follows the merchant's `platform_oversell`: cancelled on the platform with its
    out-of-stock reason, or placed as a backorder. Either way the merchant hears of it once
    (an inbox notice and a `platform_order.oversold` event, written together, keyed on the
    platform's order): never a silent dead letter."""
    merchant_id = connection.merchant_id
    policy = social.merchant_settings.get(merchant_id).platform_oversell
    order_id = None
    reason = None
    action: OversoldAction
    if policy == OversellPolicy.BACKORDER:
        order = import_or_update(social.sales, merchant_id, found, backorder=True)
        order_id = order.id if order else None
        action = "backordered"
    else:
        try:
            social.platforms.order_lookup(connection).cancel_out_of_stock(found.external_id, skus)
            action = "cancelled"
        except PlatformError as error:
            if error.retryable:
                raise
            action, reason = "cancel_refused", error.message
    count("PlatformOrdersOversold", platform=str(found.platform), action=action)
    _tell_merchant(social, connection, found, skus, action, order_id, reason)


OversoldAction = Literal["cancelled", "backordered", "cancel_refused"]
_NOTICES = {
    "cancelled": "{platform} order {external} was cancelled on {platform}: {skus} sold out.",
    "backordered": "{platform} order {external} was accepted as a backorder: {skus} sold out.",
    "cancel_refused": "{platform} order {external} is for {skus}, sold out, and {platform} "
    "refused to cancel it ({reason}): cancel it in the seller center.",
}


def _tell_merchant(
    social: Social,
    connection: Connection,
    found: PlatformOrder,
    skus: list[str],
    action: "OversoldAction",
    order_id: str | None,
    reason: str | None,
) -> None:
    external = found.external_id
    item_id = inbox_item_id(found.platform, connection.account_id, f"oversold:{external}")
    now = social.clock.now()
    text = _NOTICES[action].format(
        platform=found.platform, external=external, skus=", ".join(skus), reason=reason
    )
    item = InboxItem(
        id=item_id,
        merchant_id=connection.merchant_id,
        platform=found.platform,
        account_id=connection.account_id,
        kind=EngagementKind.NOTICE,
        external_id=f"oversold:{external}",
        text=text,
        occurred_at=now,
    )
    data = PlatformOrderOversoldData(
        platform=found.platform, external_order_id=external, action=action,
        skus=skus, order_id=order_id, reason=reason, inbox_item_id=item_id,
    )  # fmt: skip
    event = new_event(
        social.clock.new_id(Prefix.EVENT), EventType.PLATFORM_ORDER_OVERSOLD,
        connection.merchant_id, item_id, data, now,
    )  # fmt: skip
    if social.inbox.add(item, None, event):
        logger.warning("platform order oversold", extra={"platform": found.platform,
                                                        "action": action})  # fmt: skip


def cancellation_changed(
    social: Social, connection: Connection, event: CancellationChanged
) -> None:
    """Keep the request on the order it is about. The order is read from the platform first:
    one paid there that we have not imported yet is imported, and one the platform has
    cancelled meanwhile is moved on. An order not imported (unpaid on the platform) has no
    copy here to keep a request on."""
    merchant_id = connection.merchant_id
    found = _platform_order(social, connection, event.order_id)
    order = (
        import_or_update(social.sales, merchant_id, found)
        if found is not None
        else social.sales.orders.get(order_id_for(event.platform, event.order_id))
    )
    if order is None or order.merchant_id != merchant_id:
        logger.info("cancellation of an order not imported; acknowledged",
                    extra={"status": event.status})  # fmt: skip
        return
    request = CancellationRequest(
        id=event.cancel_id,
        requested_by=event.requested_by,
        status=event.status,
        requested_at=datetime.fromtimestamp(event.requested_at or event.occurred_at, UTC),
        updated_at=social.clock.now(),
    )
    if social.sales.orders.set_cancellation(order.id, request):
        logger.info("cancellation request kept on the order",
                    extra={"order_id": order.id, "status": request.status})  # fmt: skip


def _platform_order(social: Social, connection: Connection, order_id: str) -> PlatformOrder | None:
    """The order as the platform has it, read as the shop's own connection; None if the
    platform refuses to say, or the connection cannot be used (logged, counted): the
    notification is acknowledged with what it told."""
    source = str(connection.platform)
    try:
        return social.platforms.order_lookup(connection).order(order_id)
    except PlatformError as error:
        if error.retryable:
            raise
        logger.warning("platform order not readable; notification acknowledged",
                       extra={"platform": source, "status": error.status})  # fmt: skip
        count("PlatformLookupsRefused", platform=source, lookup="order")
        return None


def answer_cancellation(
    social: Social,
    merchant_id: str,
    order_id: str,
    rejection: CancellationRejection | None,
) -> OrderView:
    """Approve (`rejection` None) or reject the buyer's pending cancellation request through
    the platform, then keep the answer on the order. The platform's call carries an
    idempotency key derived from the request, so an answer repeated (a retry, or two clicks)
    reaches the platform once; answering a request that is not pending is 409."""
    sales = social.sales
    order = owned_order(sales, merchant_id, order_id)
    request = order.cancellation
    if request is None or not request.awaits_answer:
        raise Conflict(
            "The order has no cancellation request from the buyer awaiting an answer.",
            code="invalid_transition",
        )
    connection = connection_for(social.connections, merchant_id, Platform(order.source.value))
    if connection is None:
        raise Conflict(
            f"No {order.source} account is connected: connect it again to answer.",
            code="account_not_connected",
        )
    try:
        platform = social.platforms.order_lookup(connection)
        if rejection is None:
            platform.approve_cancellation(request.id, f"approve-{request.id}")
        else:
            platform.reject_cancellation(
                request.id, rejection.reason, rejection.comment, f"reject-{request.id}"
            )
    except PlatformError as error:
        if error.retryable:
            raise ServiceUnavailable(f"{order.source} is unavailable; retry.") from error
        raise Conflict(
            f"{order.source} refused the answer: {error.message}", code="platform_refused"
        ) from error
    status = CancellationStatus.APPROVED if rejection is None else CancellationStatus.REJECTED
    answered = request.model_copy(
        update={
            "status": status,
            "updated_at": social.clock.now(),
            "reject_reason": rejection.reason if rejection else None,
        }
    )
    if not sales.orders.answer_cancellation(order.id, request, answered):
        current = owned_order(sales, merchant_id, order_id).cancellation
        if current is None or current.id != request.id or current.status != status:
            raise Conflict(
                "The cancellation request changed meanwhile; read the order again.",
                code="concurrent_update",
            )
    return get_order(sales, merchant_id, order_id)


def pull_meta_orders(social: Social) -> int:
    """Meta Shops has no order webhook: for each merchant that named its commerce account,
    import the account's new orders, then acknowledge them (idempotently) so that Meta moves
    them to IN_PROGRESS. Each pull acts as the merchant's own Facebook or Instagram
    connection: a commerce account that token may not read yields nothing."""
    imported = 0
    cursor = None
    while True:
        merchants, cursor = social.merchant_settings.with_meta_commerce_account(100, cursor)
        for merchant_id, cms_id in merchants:
            imported += _pull_commerce_account(social, merchant_id, cms_id)
        if cursor is None:
            return imported


def _pull_commerce_account(social: Social, merchant_id: str, cms_id: str) -> int:
    connection = connection_for(
        social.connections, merchant_id, Platform.FACEBOOK
    ) or connection_for(social.connections, merchant_id, Platform.INSTAGRAM)
    if connection is None:
        logger.warning("commerce account without a Meta connection", extra={"account_id": cms_id})
        return 0
    try:
        feed = social.platforms.order_feed(connection)
        orders = feed.new_orders(cms_id, connection.platform)
    except PlatformError as error:
        logger.warning("meta orders not pulled", extra={"account_id": cms_id,
                                                        "error": error.message})  # fmt: skip
        return 0
    imported = 0
    for found in orders:
        try:
            order = import_or_update(social.sales, merchant_id, found)
            if order is not None:
                feed.acknowledge_order(found, order.id)
                imported += 1
        except Exception:  # one bad order must not hold the others; the next pull retries
            logger.exception("meta order not imported", extra={"meta_order": found.external_id})
    return imported
