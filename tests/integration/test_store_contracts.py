"""The same promises checked against the in-memory fakes and the DynamoDB stores (moto), so
the services' fast unit tests rely on fakes that behave like the real thing."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.catalog import Product, Variant
from chalicelib.domain.errors import AlreadyExists, BelowReserved, ConcurrentUpdate, OutOfStock
from chalicelib.domain.inventory import StockMove
from chalicelib.domain.money import Money
from chalicelib.domain.orders import (
    Amounts,
    Order,
    OrderLine,
    OrderStatus,
    OrderUpdate,
    StatusChange,
)
from tests.fakes import FakeOrders, FakeProducts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamodb"])
def stores(request):
    if request.param == "fake":
        products = FakeProducts()
        return products, FakeOrders(products)
    rt = request.getfixturevalue("rt")
    return rt.product_store, rt.order_store


def catalog_with(products, on_hand=(5, 1)):
    variants = [
        Variant(
            id=f"var_{n}",
            product_id="prod_1",
            merchant_id="mer_1",
            sku=f"SKU-{n}",
            price=Money(amount=1000, currency="EUR"),
            on_hand=units,
        )
        for n, units in enumerate(on_hand)
    ]
    product = Product(
        id="prod_1",
        merchant_id="mer_1",
        title="Shirt",
        variant_ids=[v.id for v in variants],
        created_at=NOW,
        updated_at=NOW,
    )
    products.add(product, variants)
    return product, variants


def order_for(quantities, order_id="ord_1"):
    lines = [
        OrderLine(
            variant_id=f"var_{n}",
            product_id="prod_1",
            sku=f"SKU-{n}",
            title="Shirt",
            quantity=q,
            unit_price=Money(amount=1000, currency="EUR"),
            total=Money(amount=1000 * q, currency="EUR"),
        )
        for n, q in enumerate(quantities)
        if q
    ]
    total = sum(line.total.amount for line in lines)
    return Order(
        id=order_id,
        merchant_id="mer_1",
        status=OrderStatus.PENDING_PAYMENT,
        lines=lines,
        amounts=Amounts(currency="EUR", subtotal=total, total=total),
        history=[StatusChange(status=OrderStatus.PENDING_PAYMENT, at=NOW)],
        created_at=NOW,
        expires_at=NOW + timedelta(minutes=30),
    )


def counters(products, variant_id):
    v = products.variants([variant_id])[0]
    return v.on_hand, v.reserved, v.available


def test_placing_reserves_every_line_or_none_and_names_the_short_one(stores):
    products, orders = stores
    catalog_with(products, on_hand=(5, 1))
    with pytest.raises(OutOfStock) as short:
        orders.place(order_for([2, 2]))
    assert (short.value.line_index, short.value.variant_id) == (1, "var_1")
    assert counters(products, "var_0") == (5, 0, 5)
    assert orders.get("ord_1") is None
    orders.place(order_for([2, 1]))
    assert counters(products, "var_0") == (5, 2, 3)
    assert counters(products, "var_1") == (1, 1, 0)


def test_placing_the_same_order_twice_is_refused_as_existing(stores):
    products, orders = stores
    catalog_with(products)
    orders.place(order_for([1]))
    with pytest.raises(AlreadyExists):
        orders.place(order_for([1]))
    assert counters(products, "var_0") == (5, 1, 4)


def test_a_move_from_a_status_the_order_left_is_refused(stores):
    products, orders = stores
    catalog_with(products)
    order = order_for([2])
    orders.place(order)
    paid = StatusChange(status=OrderStatus.PAID, at=NOW)
    orders.move(order, paid, frozenset({OrderStatus.PENDING_PAYMENT}), StockMove.COMMIT)
    assert counters(products, "var_0") == (3, 0, 3)
    with pytest.raises(ConcurrentUpdate):
        orders.move(order, paid, frozenset({OrderStatus.PENDING_PAYMENT}), StockMove.COMMIT)
    assert counters(products, "var_0") == (3, 0, 3)
    assert orders.get(order.id).status == OrderStatus.PAID


def test_a_reclaim_without_stock_names_the_line(stores):
    products, orders = stores
    catalog_with(products, on_hand=(5, 1))
    order = order_for([1, 1])
    orders.place(order)
    expired = StatusChange(status=OrderStatus.EXPIRED, at=NOW)
    orders.move(order, expired, frozenset({OrderStatus.PENDING_PAYMENT}), StockMove.RELEASE)
    orders.place(order_for([0, 1], order_id="ord_2"))  # someone takes the last of line 1
    late = StatusChange(status=OrderStatus.PAID, at=NOW)
    with pytest.raises(OutOfStock) as short:
        orders.move(order, late, frozenset({OrderStatus.EXPIRED}), StockMove.RECLAIM)
    assert short.value.line_index == 1
    assert orders.get(order.id).status == OrderStatus.EXPIRED


def test_refunds_never_exceed_what_is_refundable(stores):
    products, orders = stores
    catalog_with(products)
    order = order_for([2])
    orders.place(order)
    paid = StatusChange(status=OrderStatus.PAID, at=NOW)
    orders.move(order, paid, frozenset({OrderStatus.PENDING_PAYMENT}), StockMove.COMMIT)
    order = orders.get(order.id)
    partial = StatusChange(status=OrderStatus.PARTIALLY_REFUNDED, at=NOW)
    orders.add_refund(order, 1500, partial)
    with pytest.raises(ConcurrentUpdate):
        orders.add_refund(order, 600, partial)
    assert orders.get(order.id).amounts.refunded == 1500


def test_an_update_is_written_with_its_status(stores):
    products, orders = stores
    catalog_with(products)
    order = order_for([1])
    orders.place(order)
    amounts = order.amounts.model_copy(update={"refunded": order.amounts.total})
    cancelled = StatusChange(status=OrderStatus.CANCELLED, at=NOW, reason="test")
    orders.move(
        order,
        cancelled,
        frozenset({OrderStatus.PENDING_PAYMENT}),
        StockMove.RELEASE,
        OrderUpdate(amounts=amounts),
    )
    stored = orders.get(order.id)
    assert (stored.status, stored.amounts.refunded, stored.refundable) == (
        "cancelled",
        2000 // 2,
        0,
    )
    assert [c.status for c in stored.history] == ["pending_payment", "cancelled"]


def test_a_patch_may_not_put_stock_below_the_reservations(stores):
    products, orders = stores
    product, variants = catalog_with(products)
    orders.place(order_for([3]))
    lowered = variants[0].model_copy(update={"on_hand": 2})
    bumped = product.model_copy(update={"version": product.version + 1})
    with pytest.raises(BelowReserved) as refused:
        products.replace(bumped, [lowered], [])
    assert refused.value.variant_id == "var_0"
    assert counters(products, "var_0") == (5, 3, 2)


def test_every_variant_keeps_its_products_title_for_pricing(stores):
    products, _ = stores
    product, variants = catalog_with(products)
    assert {v.product_title for v in products.variants([v.id for v in variants])} == {product.title}
    renamed = product.model_copy(update={"version": product.version + 1, "title": "Renamed"})
    products.replace(renamed, [variants[0].model_copy(update={"on_hand": 9})], [], True)
    assert {v.product_title for v in products.variants(renamed.variant_ids)} == {"Renamed"}


def test_a_patch_of_a_stale_version_is_refused(stores):
    products, _ = stores
    product, _ = catalog_with(products)
    bumped = product.model_copy(update={"version": product.version + 1, "title": "New"})
    products.replace(bumped, [], [])
    stale = product.model_copy(update={"version": product.version + 1, "title": "Stale"})
    with pytest.raises(ConcurrentUpdate):
        products.replace(stale, [], [])
    assert products.product("prod_1").title == "New"
