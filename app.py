"""Shoppable's routes and event sources. Each parses its input and calls one service."""

from chalice import Chalice

from chalicelib import consumers, openapi
from chalicelib.domain.catalog import ProductCreate, ProductPatch, ProductView
from chalicelib.domain.connections import Connection, ConnectionCreate
from chalicelib.domain.merchants import Scope
from chalicelib.domain.posts import PostCreate, PostView, StorefrontPost
from chalicelib.runtime import runtime
from chalicelib.services import catalog, connections, health, posts, storefront
from chalicelib.web import Api, Call, ListOf, ListQuery, listing

app = Chalice(app_name="shoppable")
api = Api(app)


@api.route("/v1/health", "GET", public=True, summary="Liveness and versions", returns=health.Health)
def get_health(call: Call):
    return health.check(call.rt.table)


@api.route("/v1/openapi.json", "GET", public=True, summary="This API's OpenAPI document")
def get_openapi(call: Call):
    return openapi.document(api, health.SERVICE_VERSION)


# Catalog


@api.route(
    "/v1/products",
    "POST",
    scope=Scope.CATALOG_WRITE,
    body=ProductCreate,
    returns=ProductView,
    status=201,
    idempotent=True,
    summary="Create a product",
)
def create_product(call: Call):
    return catalog.create_product(call.rt.catalog, call.rt.clock, call.merchant_id, call.body)


@api.route(
    "/v1/products",
    "GET",
    scope=Scope.CATALOG_READ,
    query=ListQuery,
    returns=ListOf[ProductView],
    summary="List products, newest first",
)
def list_products(call: Call):
    found, cursor = catalog.list_products(
        call.rt.catalog, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@api.route(
    "/v1/products/{product_id}",
    "GET",
    scope=Scope.CATALOG_READ,
    returns=ProductView,
    summary="Get a product",
)
def get_product(call: Call, product_id: str):
    return catalog.get_product(call.rt.catalog, call.merchant_id, product_id)


@api.route(
    "/v1/products/{product_id}",
    "PATCH",
    scope=Scope.CATALOG_WRITE,
    body=ProductPatch,
    returns=ProductView,
    summary="Change a product, its variants or their stock",
)
def patch_product(call: Call, product_id: str):
    return catalog.patch_product(
        call.rt.catalog, call.rt.clock, call.merchant_id, product_id, call.body
    )


# Shoppable posts


@api.route(
    "/v1/posts",
    "POST",
    scope=Scope.POSTS_WRITE,
    body=PostCreate,
    returns=PostView,
    status=201,
    idempotent=True,
    summary="Create a shoppable post",
)
def create_post(call: Call):
    return posts.create_post(
        call.rt.posts,
        call.rt.catalog,
        call.rt.clock,
        call.merchant_id,
        call.body,
        call.rt.settings.max_tags_per_post,
    )


@api.route(
    "/v1/posts",
    "GET",
    scope=Scope.POSTS_READ,
    query=ListQuery,
    returns=ListOf[PostView],
    summary="List posts, newest first",
)
def list_posts(call: Call):
    found, cursor = posts.list_posts(
        call.rt.posts, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@api.route(
    "/v1/posts/{post_id}", "GET", scope=Scope.POSTS_READ, returns=PostView, summary="Get a post"
)
def get_post(call: Call, post_id: str):
    return posts.get_post(call.rt.posts, call.merchant_id, post_id)


@api.route(
    "/v1/storefront/posts/{post_id}",
    "GET",
    public=True,
    returns=StorefrontPost,
    summary="A post as shoppers see it, each tag with title, price and availability",
)
def get_storefront_post(call: Call, post_id: str):
    return storefront.shoppable_post(call.rt.posts, call.rt.catalog, post_id)


api.preflight("/v1/storefront/posts/{post_id}")


# Connections


@api.route(
    "/v1/connections",
    "POST",
    scope=Scope.CONNECTIONS_WRITE,
    body=ConnectionCreate,
    returns=Connection,
    status=201,
    idempotent=True,
    summary="Connect a social account to this merchant",
)
def create_connection(call: Call):
    return connections.connect_account(
        call.rt.connections, call.rt.clock, call.merchant_id, call.body
    )


@api.route(
    "/v1/connections",
    "GET",
    scope=Scope.CONNECTIONS_READ,
    query=ListQuery,
    returns=ListOf[Connection],
    summary="List connected social accounts",
)
def list_connections(call: Call):
    found, cursor = connections.list_connections(
        call.rt.connections, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


# Queue consumers


@app.on_sqs_message(queue=consumers.INGEST_QUEUE, batch_size=10)
def on_ingest(event):
    return consumers.consume(runtime(), consumers.INGEST_HANDLERS, event.to_dict())
