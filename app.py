"""Shoppable's Lambda functions: the API, the ingest consumer, the schedules and the vault.

This file is the index. Each area declares its routes, consumers and schedules on its own
Chalice Blueprint in `chalicelib/routes/`.
"""

from chalice import Chalice

from chalicelib.routes import (
    catalog,  # /v1/products
    consumers,  # the ingest queue
    customers,  # /v1/customers: the vault's routes
    health,  # /v1/health, /v1/openapi.json
    keys,  # /v1/keys: the merchant's API keys
    posts,  # /v1/posts, publishing, /v1/storefront/posts
    sales,  # /v1/checkouts, /v1/orders; reservation expiry
    settings,  # /v1/settings
    social,  # /v1/connections, /v1/inbox; the Meta Shops order pull
    vault,  # the vault's own function
    webhooks,  # /v1/webhooks/{stripe,meta,tiktok,x}
)

app = Chalice(app_name="shoppable")

AREAS = (health, keys, settings, catalog, posts, social, sales, webhooks, customers, consumers,
         vault)  # fmt: skip
for area in AREAS:
    app.register_blueprint(area.blueprint)
