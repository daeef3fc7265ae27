"""Shoppable's routes and event sources. Each parses its input and calls one service."""

from chalice import Chalice, Rate

from chalicelib import consumers
from chalicelib.domain.scopes import Scope
from chalicelib.lazy import lazy_module
from chalicelib.vault.policy import READ_SCOPES
from chalicelib.web import Api, Call

# Loaded on first use: each Lambda function imports this file but needs only its part of it.
catalog = lazy_module("chalicelib.services.catalog")
checkout = lazy_module("chalicelib.services.checkout")
connections = lazy_module("chalicelib.services.connections")
engagement = lazy_module("chalicelib.services.engagement")
health = lazy_module("chalicelib.services.health")
orders = lazy_module("chalicelib.services.orders")
payments = lazy_module("chalicelib.services.payments")
platform_orders = lazy_module("chalicelib.services.platform_orders")
posts = lazy_module("chalicelib.services.posts")
publishing = lazy_module("chalicelib.services.publishing")
storefront = lazy_module("chalicelib.services.storefront")
webhooks = lazy_module("chalicelib.services.webhooks")
openapi = lazy_module("chalicelib.openapi")
pages = lazy_module("chalicelib.domain.listing")
vault_models = lazy_module("chalicelib.vault.models")
runtime_module = lazy_module("chalicelib.runtime")

app = Chalice(app_name="shoppable")
api = Api(app)


@api.route(
    "/v1/health",
    "GET",
    public=True,
    summary="Liveness and versions",
    returns="services.health:Health",
)
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
    body="domain.catalog:ProductCreate",
    returns="domain.catalog:ProductView",
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
    query="domain.listing:ListQuery",
    returns="domain.catalog:ProductView[]",
    summary="List products, newest first",
)
def list_products(call: Call):
    found, cursor = catalog.list_products(
        call.rt.catalog, call.merchant_id, call.page_size(), call.query.cursor
    )
    return pages.listing(found, cursor)


@api.route(
    "/v1/products/{product_id}",
    "GET",
    scope=Scope.CATALOG_READ,
    returns="domain.catalog:ProductView",
    summary="Get a product",
)
def get_product(call: Call, product_id: str):
    return catalog.get_product(call.rt.catalog, call.merchant_id, product_id)


@api.route(
    "/v1/products/{product_id}",
    "PATCH",
    scope=Scope.CATALOG_WRITE,
    body="domain.catalog:ProductPatch",
    returns="domain.catalog:ProductView",
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
    body="domain.posts:PostCreate",
    returns="domain.posts:PostView",
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
    query="domain.listing:ListQuery",
    returns="domain.posts:PostView[]",
    summary="List posts, newest first",
)
def list_posts(call: Call):
    found, cursor = posts.list_posts(
        call.rt.posts, call.merchant_id, call.page_size(), call.query.cursor
    )
    return pages.listing(found, cursor)


@api.route(
    "/v1/posts/{post_id}",
    "GET",
    scope=Scope.POSTS_READ,
    returns="domain.posts:PostView",
    summary="Get a post",
)
def get_post(call: Call, post_id: str):
    return posts.get_post(call.rt.posts, call.merchant_id, post_id)


@api.route(
    "/v1/posts/{post_id}/publish",
    "POST",
    scope=Scope.POSTS_WRITE,
    body="domain.social:PublishRequest",
    returns="domain.posts:PostView",
    status=202,
    summary="Publish to the platforms: one queued job each; per-platform status on the post",
)
def publish_post(call: Call, post_id: str):
    return publishing.request_publication(call.rt, call.merchant_id, post_id, call.body)


@api.route(
    "/v1/storefront/posts/{post_id}",
    "GET",
    public=True,
    returns="domain.posts:StorefrontPost",
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
    body="domain.connections:ConnectionCreate",
    returns="domain.connections:Connection",
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
    query="domain.listing:ListQuery",
    returns="domain.connections:Connection[]",
    summary="List connected social accounts",
)
def list_connections(call: Call):
    found, cursor = connections.list_connections(
        call.rt.connections, call.merchant_id, call.page_size(), call.query.cursor
    )
    return pages.listing(found, cursor)


# Engagement


@api.route(
    "/v1/inbox",
    "GET",
    scope=Scope.POSTS_READ,
    query="domain.listing:ListQuery",
    returns="domain.social:InboxItemView[]",
    summary="Comments, mentions and messages from the platforms, newest first",
)
def list_inbox(call: Call):
    found, cursor = engagement.list_inbox(
        call.rt.inbox, call.merchant_id, call.page_size(), call.query.cursor
    )
    return pages.listing(found, cursor)


# Checkout and orders


@api.route(
    "/v1/checkouts",
    "POST",
    public=True,
    body="domain.orders:CheckoutRequest",
    returns="domain.orders:CheckoutView",
    status=201,
    idempotent=True,
    summary="Check out: an order awaiting payment, its stock held, and Stripe's client_secret",
)
def create_checkout(call: Call):
    return checkout.checkout(call.rt.sales, call.body)


api.preflight("/v1/checkouts")


@api.route(
    "/v1/orders",
    "GET",
    scope=Scope.ORDERS_READ,
    query="domain.orders:OrderQuery",
    returns="domain.orders:OrderView[]",
    summary="List orders, newest first",
)
def list_orders(call: Call):
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
    return pages.listing(found, cursor)


@api.route(
    "/v1/orders/{order_id}",
    "GET",
    scope=Scope.ORDERS_READ,
    returns="domain.orders:OrderView",
    summary="Get an order",
)
def get_order(call: Call, order_id: str):
    return orders.get_order(call.rt.sales, call.merchant_id, order_id)


@api.route(
    "/v1/orders/{order_id}/fulfill",
    "POST",
    scope=Scope.ORDERS_WRITE,
    body="domain.orders:FulfillRequest",
    returns="domain.orders:OrderView",
    summary="Mark a paid order as shipped",
)
def fulfill_order(call: Call, order_id: str):
    return orders.fulfill(call.rt.sales, call.merchant_id, order_id, call.body)


@api.route(
    "/v1/orders/{order_id}/cancel",
    "POST",
    scope=Scope.ORDERS_WRITE,
    body="domain.orders:CancelRequest",
    returns="domain.orders:OrderView",
    summary="Cancel: releases the stock; refunds in full when paid",
)
def cancel_order(call: Call, order_id: str):
    return orders.cancel(call.rt.sales, call.merchant_id, order_id, call.body)


@api.route(
    "/v1/orders/{order_id}/refund",
    "POST",
    scope=Scope.ORDERS_WRITE,
    body="domain.orders:RefundRequest",
    returns="domain.orders:OrderView",
    idempotent=True,
    summary="Refund in full or in part, through Stripe",
)
def refund_order(call: Call, order_id: str):
    return orders.refund(
        call.rt.sales, call.merchant_id, order_id, call.body, call.headers.get("idempotency-key")
    )


@app.schedule(Rate(1, unit=Rate.MINUTES))
def expire_reservations(event):
    return {"expired": orders.expire_reservations(runtime_module.runtime().sales)}


# Webhooks


@api.route(
    "/v1/webhooks/stripe",
    "POST",
    public=True,
    summary="Stripe events, verified by their Stripe-Signature header",
)
def stripe_webhook(call: Call):
    rt = call.rt
    return payments.receive_webhook(
        rt.payments,
        rt.webhook_receipts,
        rt.ingest_queue,
        rt.clock,
        call.raw_body,
        call.headers.get("stripe-signature"),
    )


@api.route(
    "/v1/webhooks/meta",
    "GET",
    public=True,
    query="domain.social:MetaSubscription",
    summary="Meta's subscription check: answers hub.challenge as text/plain",
)
def meta_subscription(call: Call):
    q = call.query
    return webhooks.meta_subscription(call.rt.settings, q.mode, q.verify_token, q.challenge)


@api.route(
    "/v1/webhooks/meta",
    "POST",
    public=True,
    summary="Instagram, Facebook and Messenger events, verified by X-Hub-Signature-256",
)
def meta_webhook(call: Call):
    rt = call.rt
    return webhooks.receive_meta(
        rt.settings, rt.ingest_queue, rt.clock, call.raw_body, call.headers
    )


@api.route("/v1/webhooks/tiktok", "GET", public=True, summary="TikTok Shop webhook endpoint check")
def tiktok_check(call: Call):
    return {"ready": True}


@api.route(
    "/v1/webhooks/tiktok",
    "POST",
    public=True,
    summary="TikTok Shop events, verified by their Authorization header",
)
def tiktok_webhook(call: Call):
    rt = call.rt
    return webhooks.receive_tiktok(
        rt.settings, rt.ingest_queue, rt.clock, call.raw_body, call.headers
    )


@api.route(
    "/v1/webhooks/x",
    "GET",
    public=True,
    query="domain.social:CrcCheck",
    summary="X's challenge-response check (CRC)",
)
def x_crc(call: Call):
    return webhooks.x_crc(call.rt.settings, call.query.crc_token)


@api.route(
    "/v1/webhooks/x",
    "POST",
    public=True,
    summary="X account activity, verified by x-twitter-webhooks-signature",
)
def x_webhook(call: Call):
    rt = call.rt
    return webhooks.receive_x(rt.settings, rt.ingest_queue, rt.clock, call.raw_body, call.headers)


@app.schedule(Rate(10, unit=Rate.MINUTES))
def pull_meta_orders(event):
    """Meta Shops has no order webhook: its new orders are pulled, imported, acknowledged."""
    return {"imported": platform_orders.pull_meta_orders(runtime_module.runtime())}


# Queue consumers


@app.on_sqs_message(queue=consumers.INGEST_QUEUE, batch_size=10)
def on_ingest(event):
    return consumers.consume(runtime_module.runtime(), consumers.ingest_handlers(), event.to_dict())


# Customers (vault)


@api.route(
    "/v1/customers",
    "POST",
    scope=Scope.CUSTOMERS_WRITE,
    body="vault.models:CustomerCreate",
    returns="vault.models:Tokenized",
    status=201,
    idempotent=True,
    summary="Put a person's data in the vault; returns their token and masked values",
)
def create_customer(call: Call):
    return call.rt.vault.tokenize(vault_models.Caller.for_key(call.key), call.body)


@api.route(
    "/v1/customers/{token}",
    "GET",
    scope=READ_SCOPES,
    query="vault.models:DetokenizeQuery",
    returns="vault.models:CustomerDetails",
    summary="A customer's data, only the fields the purpose allows; audited",
)
def get_customer(call: Call, token: str):
    return call.rt.vault.detokenize_for(
        vault_models.Caller.for_key(call.key), token, call.query.purpose
    )


@api.route(
    "/v1/customers/{token}/export",
    "GET",
    scope=Scope.CUSTOMERS_EXPORT,
    returns="vault.models:CustomerExport",
    summary="Everything held on a customer, and every access to it (GDPR art. 15, 20)",
)
def export_customer(call: Call, token: str):
    return call.rt.vault.export(vault_models.Caller.for_key(call.key), token)


@api.route(
    "/v1/customers/{token}/audit",
    "GET",
    scope=Scope.CUSTOMERS_AUDIT,
    query="domain.listing:ListQuery",
    returns="vault.models:AuditEntry[]",
    summary="Who read or changed a customer's data, when and for what, newest first",
)
def list_customer_audit(call: Call, token: str):
    page = call.rt.vault.audit_trail(
        vault_models.Caller.for_key(call.key), token, call.page_size(), call.query.cursor
    )
    return pages.listing(page.entries, page.next_cursor)


@api.route(
    "/v1/customers/{token}",
    "DELETE",
    scope=Scope.CUSTOMERS_ERASE,
    returns="vault.models:ErasedCustomer",
    summary="Erase a customer: their data key is destroyed; every read is 410 afterwards",
)
def erase_customer(call: Call, token: str):
    return call.rt.vault.erase(vault_models.Caller.for_key(call.key), token)


@app.lambda_function(name="vault")
def vault_function(event, context):
    """The vault as its own function: only its role may use the vault key and tables."""
    from chalicelib.vault.handler import handle

    return handle(lambda: runtime_module.runtime().vault_backend, event)
