"""Shoppable's Lambda functions: the API, the ingest consumer, the schedules and the vault.

This file is the index. Each area declares its routes, consumers and schedules on its own
Chalice Blueprint in `chalicelib/routes/`.
"""

from chalice import Chalice

from chalicelib.routes import (
    analytics,  # /v1/storefront/beacon, /v1/analytics/funnel(.csv, .svg)
    catalog,  # /v1/products
    consumers,  # the ingest queue
    creators,  # /v1/creators, their referrals and statements
    customers,  # /v1/customers: the vault's routes
    health,  # /v1/health, /v1/openapi.json
    keys,  # /v1/keys: the merchant's API keys
    outbound,  # /v1/webhook_endpoints, /v1/events; the outbox stream, webhook deliveries
    posts,  # /v1/posts, publishing, /v1/storefront/posts
    sales,  # /v1/checkouts, /v1/orders; reservation expiry
    settings,  # /v1/settings
    social,  # /v1/connections (OAuth), /v1/inbox; token renewal, the Meta Shops order pull
    vault,  # the vault's own function
    webhooks,  # /v1/webhooks/{stripe,meta,tiktok,x}
    widget,  # /widget/{shoppable.js,shoppable.css}, /demo/posts/{post_id}
)
from chalicelib.web import refuse_unknown_methods

app = Chalice(app_name="shoppable")

for area in (
    health,
    keys,
    settings,
    catalog,
    posts,
    widget,
    social,
    sales,
    webhooks,
    outbound,
    customers,
    creators,
    analytics,
    consumers,
    vault,
):
    app.register_blueprint(area.blueprint)
refuse_unknown_methods(app)  # 405 in the contract's body, with Allow
