"""Checkout and orders: the storefront's purchase, the merchant's order management, and the
schedule that releases stock held by orders nobody paid."""

from typing import Any

from chalice import Rate

from ..domain.listing import ListOf, listing
from ..domain.orders import (
    CancelRequest,
    CheckoutRequest,
    CheckoutView,
    FulfillRequest,
    OrderQuery,
    OrderView,
    RefundRequest,
)
from ..domain.scopes import Scope
from ..runtime import runtime
from ..services import checkout, orders
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/checkouts",
    "POST",
    public=True,
    body=CheckoutRequest,
    returns=CheckoutView,
    status=201,
    idempotent=True,
    summary="Check out: an order awaiting payment, its stock held, and Stripe's client_secret",
)
def create_checkout(call: Call) -> CheckoutView:
    return checkout.checkout(call.rt.sales, call.body)


routes.preflight("/v1/checkouts")


@routes.route(
    "/v1/orders",
    "GET",
    scope=Scope.ORDERS_READ,
    query=OrderQuery,
    returns=ListOf[OrderView],
    summary="List orders, newest first",
)
def list_orders(call: Call) -> ListOf[OrderView]:
    q = call.query
    found, cursor = orders.list_orders(
        call.rt.sales,
        call.merchant_id,
        call.page_size(),
        q.cursor,
        q.status,
        q.created_from,
        q.created_to,
    )
    return listing(found, cursor)


@routes.route(
    "/v1/orders/{order_id}",
    "GET",
    scope=Scope.ORDERS_READ,
    returns=OrderView,
    summary="Get an order",
)
def get_order(call: Call, order_id: str) -> OrderView:
    return orders.get_order(call.rt.sales, call.merchant_id, order_id)


@routes.route(
    "/v1/orders/{order_id}/fulfill",
    "POST",
    scope=Scope.ORDERS_WRITE,
    body=FulfillRequest,
    returns=OrderView,
    summary="Mark a paid order as shipped",
)
def fulfill_order(call: Call, order_id: str) -> OrderView:
    return orders.fulfill(call.rt.sales, call.merchant_id, order_id, call.body)


@routes.route(
    "/v1/orders/{order_id}/cancel",
    "POST",
    scope=Scope.ORDERS_WRITE,
    body=CancelRequest,
    returns=OrderView,
    summary="Cancel: releases the stock; refunds in full when paid",
)
def cancel_order(call: Call, order_id: str) -> OrderView:
    return orders.cancel(call.rt.sales, call.merchant_id, order_id, call.body)


@routes.route(
    "/v1/orders/{order_id}/refund",
    "POST",
    scope=Scope.ORDERS_WRITE,
    body=RefundRequest,
    returns=OrderView,
    idempotent=True,
    summary="Refund in full or in part, through Stripe",
)
def refund_order(call: Call, order_id: str) -> OrderView:
    return orders.refund(
        call.rt.sales, call.merchant_id, order_id, call.body, call.headers.get("idempotency-key")
    )


@routes.blueprint.schedule(Rate(1, unit=Rate.MINUTES))
def expire_reservations(event: Any) -> dict[str, int]:
    return {"expired": orders.expire_reservations(runtime().worker_sales)}
