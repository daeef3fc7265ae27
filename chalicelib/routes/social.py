"""The merchant's social accounts (connected through the platforms' OAuth), its inbox, platform
orders' cancellation requests, the platforms' own callbacks about those accounts, and the
schedules that keep their tokens fresh and pull Meta Shops orders.

`{id}` is a platform's name on the OAuth routes and a connection's id on `DELETE`: API
Gateway allows one path variable name per level.
"""

from typing import Any
from urllib.parse import parse_qs

from chalice import Rate

from ..domain.claims import CancellationRejection
from ..domain.connections import (
    AuthorizationStart,
    CallbackQuery,
    ConnectionView,
    DataDeletion,
    DataDeletionAnswer,
    Disconnected,
)
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
    "/v1/connections/{id}/authorize",
    "POST",
    scope=Scope.CONNECTIONS_WRITE,
    returns=AuthorizationStart,
    summary="Start connecting accounts on a platform ({id}: instagram, facebook, tiktok, x, "
    "pinterest): the platform's consent URL, with a signed, single-use state",
)
def authorize(call: Call, id: str) -> AuthorizationStart:
    return connections.begin_authorization(call.rt.connections, call.merchant_id, id)


@routes.route(
    "/v1/connections/{id}/callback",
    "GET",
    public=True,
    query=CallbackQuery,
    returns=ListOf[ConnectionView],
    summary="Where the platform sends the merchant back ({id}: the platform): the code is "
    "exchanged and the accounts the authorization covers are connected",
)
def callback(call: Call, id: str) -> ListOf[ConnectionView]:
    return listing(connections.complete_authorization(call.rt.connections, id, call.query), None)


@routes.route(
    "/v1/connections",
    "GET",
    scope=Scope.CONNECTIONS_READ,
    query=ListQuery,
    returns=ListOf[ConnectionView],
    summary="List connected social accounts",
)
def list_connections(call: Call) -> ListOf[ConnectionView]:
    found, cursor = connections.list_connections(
        call.rt.connection_store, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/connections/{id}",
    "DELETE",
    scope=Scope.CONNECTIONS_WRITE,
    returns=Disconnected,
    summary="Disconnect an account: its webhooks stop, its tokens are revoked (where the "
    "platform can) and shredded",
)
def disconnect(call: Call, id: str) -> Disconnected:
    return connections.disconnect(call.rt.connections, call.merchant_id, id)


def _signed_request(call: Call) -> str | None:
    form = parse_qs(call.raw_body.decode(errors="replace"), max_num_fields=20)
    values = form.get("signed_request") or []
    return values[0] if len(values) == 1 else None


@routes.route(
    "/v1/connections/meta/deauthorize",
    "POST",
    public=True,
    summary="Meta's deauthorize callback (signed_request): the person's connections go",
)
def meta_deauthorize(call: Call) -> dict[str, bool]:
    return connections.meta_deauthorized(call.rt.connections, _signed_request(call))


@routes.route(
    "/v1/connections/meta/data_deletion",
    "POST",
    public=True,
    returns=DataDeletionAnswer,
    summary="Meta's data deletion request callback (signed_request): {url, confirmation_code}",
)
def meta_data_deletion(call: Call) -> DataDeletionAnswer:
    return connections.meta_data_deletion(call.rt.connections, _signed_request(call))


@routes.route(
    "/v1/connections/meta/data_deletion/{code}",
    "GET",
    public=True,
    returns=DataDeletion,
    summary="The status of a data deletion request, by its confirmation code",
)
def data_deletion_status(call: Call, code: str) -> DataDeletion:
    return connections.deletion_status(call.rt.connections, code)


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


@routes.blueprint.schedule(Rate(15, unit=Rate.MINUTES))
def renew_platform_tokens(event: Any) -> dict[str, int]:
    """Each connection's tokens, renewed well before they expire (X's last two hours)."""
    return connections.renew_tokens(runtime().connections)


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
