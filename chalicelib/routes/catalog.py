"""Products, their variants and their stock."""

from typing import Any

from chalice import Rate

from ..domain.catalog import ProductCreate, ProductPatch, ProductView
from ..domain.listing import ListOf, ListQuery, listing
from ..domain.scopes import Scope
from ..runtime import runtime
from ..services import catalog, channels
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/products",
    "POST",
    scope=Scope.CATALOG_WRITE,
    body=ProductCreate,
    returns=ProductView,
    status=201,
    idempotent=True,
    summary="Create a product",
)
def create_product(call: Call) -> ProductView:
    return catalog.create_product(call.rt.catalog, call.merchant_id, call.body)


@routes.route(
    "/v1/products",
    "GET",
    scope=Scope.CATALOG_READ,
    query=ListQuery,
    returns=ListOf[ProductView],
    summary="List products, newest first",
)
def list_products(call: Call) -> ListOf[ProductView]:
    found, cursor = catalog.list_products(
        call.rt.catalog, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/products/{product_id}",
    "GET",
    scope=Scope.CATALOG_READ,
    returns=ProductView,
    summary="Get a product",
)
def get_product(call: Call, product_id: str) -> ProductView:
    return catalog.get_product(call.rt.catalog, call.merchant_id, product_id)


@routes.route(
    "/v1/products/{product_id}",
    "PATCH",
    scope=Scope.CATALOG_WRITE,
    body=ProductPatch,
    returns=ProductView,
    summary="Change a product, its variants or their stock",
)
def patch_product(call: Call, product_id: str) -> ProductView:
    return catalog.patch_product(call.rt.catalog, call.merchant_id, product_id, call.body)


@routes.blueprint.schedule(Rate(30, unit=Rate.MINUTES))
def reconcile_channels(event: Any) -> dict[str, int]:
    """Each channel's listed stock and prices read back, compared with ours, drift repaired
    and reported (`channel.drift`)."""
    return channels.reconcile(runtime().channels)
