"""Checkout and orders: the storefront's purchase, the merchant's order management, and the
schedule that releases stock held by orders nobody paid."""

from typing import Any

from chalice import Rate

from ..domain.listing import ListOf, listing
from ..domain.orders import (
    CancelRequest,
    CheckoutRequest,
    CheckoutStatus,
    CheckoutStatusQuery,
    CheckoutView,
    FulfillRequest,
    OrderQuery,
    OrderView,
    RefundRequest,
)
from ..domain.scopes import Scope
from ..errors import InvalidRequest
from ..runtime import runtime
from ..services import checkout, orders
from ..web import Call, Replay, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


def _checkout_scope(call: Call) -> str:
    return checkout.idempotency_scope(call.rt.sales, call.body, call.rt.digests)


def _keep_checkout(body: dict[str, Any]) -> dict[str, Any]:
    """No client_secret (it pays the order) and no masked buyer values in the stored answer."""
    kept = {name: value for name, value in body.items() if name != "client_secret"}
    kept["customer"] = {"token": body["customer"]["token"]}
    return kept


def _answer_checkout(call: Call, kept: dict[str, Any]) -> dict[str, Any]:
    restored = checkout.restore(call.rt.sales, kept["order_id"], kept["payment_intent_id"])
    return {
        **kept,
        "client_secret": restored.client_secret,
        "customer": restored.customer.model_dump(mode="json"),
    }


def _keep_order(body: dict[str, Any]) -> dict[str, Any]:
    customer = body.get("customer")
    return {**body, "customer": {"token": customer["token"]} if customer else None}


def _answer_order(call: Call, kept: dict[str, Any]) -> dict[str, Any]:
    if kept.get("customer") is None:
        return kept
    current = orders.get_order(call.rt.sales, call.merchant_id, kept["id"])
    customer = current.customer.model_dump(mode="json") if current.customer else None
    return {**kept, "customer": customer}


@routes.route(
    "/v1/checkouts",
    "POST",
    public=True,
    body=CheckoutRequest,
    returns=CheckoutView,
    status=201,
    idempotent=True,
    idempotency_scope=_checkout_scope,
    replay=Replay(keep=_keep_checkout, answer=_answer_checkout),
    summary="Check out: an order awaiting payment, its stock held, and Stripe's client_secret",
)
def create_checkout(call: Call) -> CheckoutView:
    return checkout.checkout(call.rt.sales, call.body, _client(call))


def _client(call: Call) -> checkout.Client:
    device = call.headers.get("x-device-id")
    if device is not None and not (0 < len(device) <= 128 and device.isprintable()):
        raise InvalidRequest("X-Device-Id must be 1 to 128 printable characters.",
                             param="X-Device-Id")  # fmt: skip
    return checkout.Client(ip=call.source_ip, device=device)


routes.preflight("/v1/checkouts")


@routes.route(
    "/v1/checkouts/{order_id}",
    "GET",
    public=True,
    query=CheckoutStatusQuery,
    returns=CheckoutStatus,
    summary="A checkout's status, for the buyer holding its client_secret; 404 for anyone else",
)
def get_checkout_status(call: Call, order_id: str) -> CheckoutStatus:
    return checkout.checkout_status(call.rt.sales, order_id, call.query.client_secret)


routes.preflight("/v1/checkouts/{order_id}")


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
    replay=Replay(keep=_keep_order, answer=_answer_order),
    summary="Refund in full or in part, through Stripe",
)
def refund_order(call: Call, order_id: str) -> OrderView:
    return orders.refund(
        call.rt.sales, call.merchant_id, order_id, call.body, call.headers.get("idempotency-key")
    )


@routes.blueprint.schedule(Rate(1, unit=Rate.MINUTES))
def expire_reservations(event: Any) -> dict[str, int]:
    return {"expired": orders.expire_reservations(runtime().worker_sales)}
