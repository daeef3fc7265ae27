"""Tenant isolation, as a property: with three merchants, each holding a product, a post, an
order and a customer token, any merchant's key on any merchant route with any id (another
merchant's, its own, or a random one of the right prefix) never reads or changes another
merchant's object: such requests are 404 (or 4xx, but never 2xx), listings hold only the
caller's objects, and every object is unchanged by requests of other merchants."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.services.merchants import create_merchant
from tests.fixtures.app import product_body
from tests.integration.platform_helpers import connect

BUYER = {
    "customer": {"email": "iso@example.com", "name": "Iso Lation"},
    "shipping_address": {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345",
                         "country": "US"},
}  # fmt: skip

# (method, path template, id kind, body)
ROUTES = [
    ("GET", "/v1/products/{product}", "product", None),
    ("PATCH", "/v1/products/{product}", "product", {"title": "Hijacked"}),
    ("GET", "/v1/posts/{post}", "post", None),
    ("POST", "/v1/posts/{post}/publish", "post", {"platforms": ["x"]}),
    ("GET", "/v1/orders/{order}", "order", None),
    ("POST", "/v1/orders/{order}/fulfill", "order", {"carrier": "UPS", "tracking_number": "1"}),
    ("POST", "/v1/orders/{order}/cancel", "order", {}),
    ("POST", "/v1/orders/{order}/refund", "order", {}),
    ("GET", "/v1/customers/{customer}?purpose=fulfillment", "customer", None),
    ("GET", "/v1/customers/{customer}/export", "customer", None),
    ("GET", "/v1/customers/{customer}/audit", "customer", None),
    ("DELETE", "/v1/customers/{customer}", "customer", None),
    ("DELETE", "/v1/connections/{connection}", "connection", None),
]
LISTINGS = ["/v1/products", "/v1/posts", "/v1/orders", "/v1/connections", "/v1/inbox"]
PREFIX = {
    "product": "prod_",
    "post": "post_",
    "order": "ord_",
    "customer": "cus_",
    "connection": "conn_",
}


@pytest.fixture(autouse=True)
def _platforms(platforms):
    """The platforms' settings, set before the app reads them; each shop connects an X
    account through the OAuth stand-in."""
    return platforms


@pytest.fixture
def shops(platforms, api, rt):
    shops = []
    for index in range(3):
        new = create_merchant(rt.merchants, f"Shop {index}")
        key = new.secret
        product = api.post("/v1/products", product_body(), key=key).json
        post = api.post(
            "/v1/posts",
            {"media": {"url": "https://cdn.example.com/a.jpg", "width": 10, "height": 10},
             "tags": [{"product_id": product["id"], "x": 0.5, "y": 0.5}]},
            key=key,
        ).json  # fmt: skip
        order = api.post(
            "/v1/checkouts",
            {"lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}], **BUYER},
        ).json
        customer = api.post(
            "/v1/customers", {"email": f"c{index}@example.com", "name": "Cus Tomer"}, key=key
        ).json
        connection = connect(api, platforms, new, "x", account_id=f"100{index}")
        shops.append({
            "merchant_id": new.merchant.id, "key": key, "product": product["id"],
            "post": post["id"], "order": order["order_id"], "customer": customer["token"],
            "connection": connection["id"],
        })  # fmt: skip
    return shops


def _snapshot(api, shop):
    key = shop["key"]
    return json.dumps([
        api.get(f"/v1/products/{shop['product']}", key=key).json,
        api.get(f"/v1/posts/{shop['post']}", key=key).json,
        api.get(f"/v1/orders/{shop['order']}", key=key).json,
        api.get(f"/v1/customers/{shop['customer']}/export", key=key).status_code,
        api.get("/v1/connections", key=key).json,
    ], sort_keys=True)  # fmt: skip


def test_no_request_crosses_merchants(api, rt, shops, figures):
    before = [_snapshot(api, shop) for shop in shops]
    owners = {shop[kind]: i for i, shop in enumerate(shops) for kind in PREFIX}

    @settings(
        max_examples=150, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )  # fmt: skip
    @given(
        actor=st.integers(0, 2),
        route=st.sampled_from(ROUTES),
        target=st.one_of(
            st.tuples(st.integers(0, 2), st.just(None)),
            st.tuples(st.just(None), st.text("abcdefghijklmnopqrstuvwxyz0123456789_", max_size=30)),
        ),
    )  # fmt: skip
    def crossing(actor, route, target):
        method, template, kind, body = route
        owner, noise = target
        object_id = shops[owner][kind] if owner is not None else PREFIX[kind] + noise
        if owner == actor:
            return  # the owner may act on it; only other merchants matter here
        path = template.replace("{" + kind + "}", object_id)
        response = api.request(method, path, body, key=shops[actor]["key"])
        figures["isolation_examples"] += 1
        if response.status_code < 400 and owners.get(object_id) not in (None, actor):
            figures["isolation_crossings"] += 1
        assert response.status_code in (400, 404, 422), (method, path, response.body)
        assert response.status_code == 404 or owner is None, (method, path, response.body)

    crossing()

    for actor, shop in enumerate(shops):
        for listing in LISTINGS:
            text = api.get(listing, key=shop["key"]).body.decode()
            figures["isolation_examples"] += 1
            for other, other_shop in enumerate(shops):
                if other != actor:
                    leaked = [
                        other_shop[k] for k in (*PREFIX, "merchant_id") if other_shop[k] in text
                    ]
                    figures["isolation_crossings"] += len(leaked)
                    assert leaked == [], (listing, actor, leaked)
    assert [_snapshot(api, shop) for shop in shops] == before
