"""The sale's use cases against in-memory fakes of their ports (tests/fakes.py): checkout,
the order lifecycle, refunds, expiry and Stripe's events, without AWS or Stripe."""

from datetime import timedelta

import pytest

from chalicelib.domain.catalog import Product, Variant
from chalicelib.domain.errors import AlreadyExists
from chalicelib.domain.events import Message
from chalicelib.domain.money import Money
from chalicelib.domain.orders import CancelRequest, CheckoutRequest, OrderStatus, RefundRequest
from chalicelib.errors import Conflict, ServiceUnavailable, ValidationFailed
from chalicelib.services import checkout, orders, payments
from chalicelib.services.orders import Sales
from tests.fakes import (
    FakeClock,
    FakeDigests,
    FakeLimits,
    FakeOrders,
    FakePayments,
    FakePosts,
    FakeProducts,
    FakeVault,
)

MERCHANT = "mer_1"


def sales_with(stock: int = 5, orders_store=None) -> Sales:
    clock = FakeClock()
    products = FakeProducts()
    products.add(
        Product(
            id="prod_1",
            merchant_id=MERCHANT,
            title="Linen shirt",
            variant_ids=["var_1"],
            created_at=clock.now(),
            updated_at=clock.now(),
        ),
        [
            Variant(
                id="var_1",
                product_id="prod_1",
                merchant_id=MERCHANT,
                sku="SHIRT-S",
                price=Money(amount=4900, currency="EUR"),
                on_hand=stock,
            )
        ],
    )
    return Sales(
        orders=orders_store(products) if orders_store else FakeOrders(products),
        products=products,
        posts=FakePosts(),
        payments=FakePayments(),
        vault=FakeVault(),
        clock=clock,
        limits=FakeLimits(),
        digests=FakeDigests(),
        reservation_minutes=30,
    )


def request(quantity: int = 2) -> CheckoutRequest:
    return CheckoutRequest.model_validate(
        {
            "lines": [{"variant_id": "var_1", "quantity": quantity}],
            "customer": {"email": "ana@example.com", "name": "Ana"},
            "shipping_address": {
                "line1": "1 Main St",
                "city": "Lisbon",
                "postal_code": "1100-001",
                "country": "PT",
            },
        }
    )


def stock(sales: Sales) -> tuple[int, int, int]:
    v = sales.products.variants(["var_1"])[0]
    return v.on_hand, v.reserved, v.available


def paid_order(sales: Sales, quantity: int = 2):
    placed = checkout.checkout(sales, request(quantity))
    order = sales.orders.get(placed.order_id)
    payments.payment_succeeded(sales, stripe_event("payment_intent.succeeded", order))
    return sales.orders.get(placed.order_id)


def stripe_event(kind: str, order, **data) -> Message:
    return Message(
        id=f"evt_{kind}",
        type=f"stripe.{kind}",
        occurred_at=order.created_at,
        data={
            "id": order.payment_intent_id,
            "object": "payment_intent",
            "metadata": {"order_id": order.id},
            "amount": order.amounts.total,
            "amount_received": order.amounts.total,
            "currency": order.amounts.currency.lower(),
            **data,
        },
    )


def test_checkout_prices_on_the_server_reserves_and_announces_the_order():
    sales = sales_with(stock=5)
    placed = checkout.checkout(sales, request(2))
    assert placed.amounts.total == 9800
    assert placed.client_secret.startswith(placed.payment_intent_id)
    assert stock(sales) == (5, 2, 3)
    assert sales.orders.event_types() == ["order.created"]
    assert sales.orders.get(placed.order_id).customer.token == "cus_1"


def test_out_of_stock_names_the_line_and_leaves_nothing():
    sales = sales_with(stock=1)
    with pytest.raises(Conflict) as refused:
        checkout.checkout(sales, request(2))
    assert (refused.value.code, refused.value.param) == ("out_of_stock", "lines[0].quantity")
    assert stock(sales) == (1, 0, 1)
    assert sales.orders.orders_by_id == {}
    assert sales.vault.tokens == {}
    assert sales.orders.outbox == []


def test_a_failed_payment_creation_gives_the_stock_back():
    sales = sales_with(stock=5)
    sales.payments.fail_next = ServiceUnavailable("Stripe is down")
    with pytest.raises(ServiceUnavailable):
        checkout.checkout(sales, request(2))
    assert stock(sales) == (5, 0, 5)
    assert sales.orders.orders_by_id == {}
    assert sales.vault.snapshots == {} and sales.vault.tokens == {}  # nothing kept of the buyer


def test_a_placement_whose_answer_was_lost_counts_as_placed_once():
    class AnswerLost(FakeOrders):
        def place(self, order, holds=None, event=None):
            super().place(order, holds, event)
            raise AlreadyExists(order.id)  # the SDK's retry of a write that was applied

    sales = sales_with(stock=5, orders_store=AnswerLost)
    placed = checkout.checkout(sales, request(2))
    assert placed.status == OrderStatus.PENDING_PAYMENT
    assert stock(sales) == (5, 2, 3)


def test_a_request_for_a_variant_that_does_not_exist_names_it():
    sales = sales_with()
    bad = request().model_copy(
        update={"lines": [request().lines[0].model_copy(update={"variant_id": "var_x"})]}
    )
    with pytest.raises(ValidationFailed) as refused:
        checkout.checkout(sales, bad)
    assert refused.value.param == "lines[0].variant_id"


def test_the_payment_commits_the_stock_and_a_repeat_changes_nothing():
    sales = sales_with(stock=5)
    order = paid_order(sales, 2)
    assert order.status == OrderStatus.PAID
    assert stock(sales) == (3, 0, 3)
    payments.payment_succeeded(sales, stripe_event("payment_intent.succeeded", order))
    assert stock(sales) == (3, 0, 3)
    assert sales.orders.event_types() == ["order.created", "order.paid"]


def test_cancelling_an_unpaid_order_releases_its_stock_and_stops_the_payment():
    sales = sales_with(stock=5)
    placed = checkout.checkout(sales, request(2))
    view = orders.cancel(sales, MERCHANT, placed.order_id, CancelRequest())
    assert view.status == OrderStatus.CANCELLED
    assert stock(sales) == (5, 0, 5)
    assert sales.payments.cancelled == [placed.payment_intent_id]


def test_cancelling_a_paid_order_refunds_it_in_full_and_restocks():
    sales = sales_with(stock=5)
    order = paid_order(sales, 2)
    view = orders.cancel(sales, MERCHANT, order.id, CancelRequest())
    assert (view.status, view.amounts.refunded) == (OrderStatus.CANCELLED, 9800)
    assert sales.payments.refunds == [(order.payment_intent_id, 9800, f"cancel-{order.id}")]
    assert stock(sales) == (5, 0, 5)


def test_refunds_add_up_to_what_was_paid_and_never_more():
    sales = sales_with(stock=5)
    order = paid_order(sales, 2)
    partial = orders.refund(sales, MERCHANT, order.id, RefundRequest(amount=1000))
    assert (partial.status, partial.amounts.refunded) == (OrderStatus.PARTIALLY_REFUNDED, 1000)
    with pytest.raises(ValidationFailed) as too_much:
        orders.refund(sales, MERCHANT, order.id, RefundRequest(amount=8801))
    assert too_much.value.code == "amount_too_large"
    rest = orders.refund(sales, MERCHANT, order.id, RefundRequest())
    assert (rest.status, rest.amounts.refunded) == (OrderStatus.REFUNDED, 9800)
    assert [amount for _, amount, _ in sales.payments.refunds] == [1000, 8800]


def test_a_refund_the_provider_refuses_is_given_back():
    sales = sales_with(stock=5)
    order = paid_order(sales, 2)
    sales.payments.fail_next = ServiceUnavailable("Stripe is down")
    with pytest.raises(ServiceUnavailable):
        orders.refund(sales, MERCHANT, order.id, RefundRequest(amount=1000))
    stored = sales.orders.get(order.id)
    assert (stored.status, stored.amounts.refunded) == (OrderStatus.PAID, 0)


def test_another_merchants_order_does_not_exist():
    sales = sales_with()
    placed = checkout.checkout(sales, request(1))
    with pytest.raises(Exception) as missing:
        orders.get_order(sales, "mer_other", placed.order_id)
    assert missing.value.status == 404


def test_expiry_releases_only_reservations_that_ran_out():
    sales = sales_with(stock=5)
    first = checkout.checkout(sales, request(2))
    sales.clock.advance(minutes=20)
    second = checkout.checkout(sales, request(1))
    sales.clock.advance(minutes=15)
    assert orders.expire_reservations(sales) == 1
    assert sales.orders.get(first.order_id).status == OrderStatus.EXPIRED
    assert sales.orders.get(second.order_id).status == OrderStatus.PENDING_PAYMENT
    assert stock(sales) == (5, 1, 4)


def test_a_late_payment_takes_the_stock_again_if_it_is_there():
    sales = sales_with(stock=5)
    placed = checkout.checkout(sales, request(2))
    sales.clock.advance(minutes=31)
    orders.expire_reservations(sales)
    order = sales.orders.get(placed.order_id)
    payments.payment_succeeded(sales, stripe_event("payment_intent.succeeded", order))
    assert sales.orders.get(order.id).status == OrderStatus.PAID
    assert stock(sales) == (3, 0, 3)


def test_a_late_payment_without_stock_is_refunded_at_the_provider():
    sales = sales_with(stock=2)
    placed = checkout.checkout(sales, request(2))
    sales.clock.advance(minutes=31)
    orders.expire_reservations(sales)
    paid_order(sales, 2)  # someone else buys the last units
    order = sales.orders.get(placed.order_id)
    payments.payment_succeeded(sales, stripe_event("payment_intent.succeeded", order))
    late = sales.orders.get(order.id)
    assert (late.status, late.amounts.refunded) == (OrderStatus.REFUNDED, 9800)
    assert (order.payment_intent_id, 9800, f"late-payment-{order.id}") in sales.payments.refunds
    assert stock(sales) == (0, 0, 0)


def test_a_payment_failure_after_the_payment_changes_nothing():
    sales = sales_with(stock=5)
    order = paid_order(sales, 2)
    payments.payment_failed(sales, stripe_event("payment_intent.payment_failed", order))
    assert sales.orders.get(order.id).status == OrderStatus.PAID
    assert stock(sales) == (3, 0, 3)


def test_the_fake_clock_moves_only_when_told():
    clock = FakeClock()
    before = clock.now()
    clock.advance(minutes=1)
    assert clock.now() - before == timedelta(minutes=1)
