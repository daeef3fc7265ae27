"""The merchant's social accounts and inbox, platform orders' cancellation requests, and the
pull of Meta Shops orders."""

from typing import Any

from chalice import Rate

from ..domain.claims import CancellationRejection
from ..domain.connections import Connection, ConnectionCreate
from ..domain.engagement import InboxItemView
from ..domain.listing import ListOf, ListQuery, listing
from ..domain.orders import OrderView
from ..domain.scopes import Scope
from ..runtime import runtime
from ..services import connections, engagement, platform_orders
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/connections",
    "POST",
    scope=Scope.CONNECTIONS_WRITE,
    body=ConnectionCreate,
    returns=Connection,
    status=201,
    idempotent=True,
    summary="Connect a social account to this merchant",
)
def create_connection(call: Call) -> Connection:
    return connections.connect_account(call.rt.social, call.merchant_id, call.body)


@routes.route(
    "/v1/connections",
    "GET",
    scope=Scope.CONNECTIONS_READ,
    query=ListQuery,
    returns=ListOf[Connection],
    summary="List connected social accounts",
)
def list_connections(call: Call) -> ListOf[Connection]:
    found, cursor = connections.list_connections(
        call.rt.social, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/inbox",
    "GET",
    scope=Scope.POSTS_READ,
    query=ListQuery,
    returns=ListOf[InboxItemView],
    summary="Comments, mentions and messages from the platforms, newest first",
)
def list_inbox(call: Call) -> ListOf[InboxItemView]:
    found, cursor = engagement.list_inbox(
        call.rt.social, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/orders/{order_id}/cancellation/approve",
    "POST",
    scope=Scope.ORDERS_WRITE,
    returns=OrderView,
    idempotent=True,
    summary="Approve the buyer's cancellation request, on the platform that sold the order",
)
def approve_cancellation(call: Call, order_id: str) -> OrderView:
    return platform_orders.answer_cancellation(call.rt.social, call.merchant_id, order_id, None)


@routes.route(
    "/v1/orders/{order_id}/cancellation/reject",
    "POST",
    scope=Scope.ORDERS_WRITE,
    body=CancellationRejection,
    returns=OrderView,
    idempotent=True,
    summary="Reject the buyer's cancellation request with one of the platform's reasons",
)
def reject_cancellation(call: Call, order_id: str) -> OrderView:
    return platform_orders.answer_cancellation(
        call.rt.social, call.merchant_id, order_id, call.body
    )


@routes.blueprint.schedule(Rate(10, unit=Rate.MINUTES))
def pull_meta_orders(event: Any) -> dict[str, int]:
    """Meta Shops has no order webhook: its new orders are pulled, imported, acknowledged."""
    return {"imported": platform_orders.pull_meta_orders(runtime().social)}
