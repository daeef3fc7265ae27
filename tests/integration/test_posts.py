"""Shoppable posts and the public storefront view of them."""

import pytest

from tests.fixtures.app import post_body, product_body


def test_create_get_and_list_posts(api, merchant, product):
    created = api.post("/v1/posts", post_body(product), key=merchant.secret)
    assert created.status_code == 201, created.body
    post = created.json
    assert post["id"].startswith("post_")
    assert post["status"] == "active"
    assert post["tags"] == [{"product_id": product["id"], "variant_id": None, "x": 0.42, "y": 0.61}]
    assert api.get(f"/v1/posts/{post['id']}", key=merchant.secret).json == post
    listed = api.get("/v1/posts", key=merchant.secret).json
    assert [p["id"] for p in listed["data"]] == [post["id"]]


def test_storefront_resolves_each_tag_to_title_price_and_availability(api, merchant, product):
    small, medium = product["variants"]
    tags = [
        {"product_id": product["id"], "x": 0.1, "y": 0.2},
        {"product_id": product["id"], "variant_id": medium["id"], "x": 0.9, "y": 0.8},
    ]
    post = api.post("/v1/posts", post_body(product, tags=tags), key=merchant.secret).json
    response = api.get(f"/v1/storefront/posts/{post['id']}")
    assert response.status_code == 200
    seen = response.json
    assert seen["caption"] == "Summer linen ☀️"
    whole, sold_out = seen["tags"]
    assert whole["title"] == "Linen shirt"
    assert whole["image"] == "https://cdn.example.com/shirt.jpg"
    assert whole["price"] == {"amount": 4900, "currency": "EUR"}
    assert whole["availability"] == "in_stock"
    assert [(v["id"], v["availability"]) for v in whole["variants"]] == [
        (small["id"], "in_stock"),
        (medium["id"], "out_of_stock"),
    ]
    assert sold_out["variant_id"] == medium["id"]
    assert sold_out["price"] == {"amount": 5400, "currency": "EUR"}
    assert sold_out["availability"] == "out_of_stock"
    assert "on_hand" not in response.body.decode()
    assert "merchant_id" not in seen


def test_storefront_follows_stock_changes(api, merchant, product):
    post = api.post("/v1/posts", post_body(product), key=merchant.secret).json
    small = product["variants"][0]
    api.patch(
        f"/v1/products/{product['id']}",
        {"variants": [{"id": small["id"], "inventory": {"on_hand": 0}}]},
        key=merchant.secret,
    )
    seen = api.get(f"/v1/storefront/posts/{post['id']}").json
    assert seen["tags"][0]["availability"] == "out_of_stock"


def test_drafts_are_not_in_the_storefront(api, merchant, product):
    draft = api.post("/v1/posts", post_body(product, status="draft"), key=merchant.secret).json
    response = api.get(f"/v1/storefront/posts/{draft['id']}")
    assert response.status_code == 404
    assert response.json["error"]["type"] == "not_found"
    assert api.get("/v1/storefront/posts/post_missing").status_code == 404


def test_storefront_sends_cors_headers_for_allowed_origins(api, rt, merchant, product):
    post = api.post("/v1/posts", post_body(product), key=merchant.secret).json
    rt.settings.cors_allowed_origins = ["https://shop.example.com"]
    allowed = api.get(
        f"/v1/storefront/posts/{post['id']}", headers={"Origin": "https://shop.example.com"}
    )
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    other = api.get(f"/v1/storefront/posts/{post['id']}", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = api.request(
        "OPTIONS",
        f"/v1/storefront/posts/{post['id']}",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    private = api.get("/v1/products", key=merchant.secret, headers={"Origin": "https://x.test"})
    assert "Access-Control-Allow-Origin" not in private.headers


def test_tags_must_point_at_your_own_catalog(api, merchant, other_merchant, product):
    foreign = api.post("/v1/products", product_body(), key=other_merchant.secret).json
    tags = [
        {"product_id": product["id"], "x": 0.1, "y": 0.1},
        {"product_id": foreign["id"], "x": 0.2, "y": 0.2},
    ]
    response = api.post("/v1/posts", post_body(product, tags=tags), key=merchant.secret)
    assert response.status_code == 422
    assert response.json["error"]["param"] == "tags[1].product_id"
    wrong_variant = [
        {"product_id": product["id"], "variant_id": foreign["variants"][0]["id"], "x": 0, "y": 0}
    ]
    response = api.post("/v1/posts", post_body(product, tags=wrong_variant), key=merchant.secret)
    assert response.status_code == 422
    assert response.json["error"]["param"] == "tags[0].variant_id"
    assert api.get("/v1/posts", key=merchant.secret).json["data"] == []


def test_the_number_of_tags_is_capped_by_configuration(api, rt, merchant):
    product = api.post(
        "/v1/products",
        product_body(
            variants=[
                {"sku": f"SKU-{i}", "price": {"amount": 100, "currency": "EUR"}} for i in range(4)
            ]
        ),
        key=merchant.secret,
    ).json
    rt.settings.max_tags_per_post = 3
    tags = [
        {"product_id": product["id"], "variant_id": v["id"], "x": 0.5, "y": 0.5}
        for v in product["variants"]
    ]
    response = api.post("/v1/posts", post_body(product, tags=tags), key=merchant.secret)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "too_many_tags"
    response = api.post("/v1/posts", post_body(product, tags=tags[:3]), key=merchant.secret)
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"tags": [{"product_id": "prod_x", "x": 1.5, "y": 0.5}]}, "tags[0].x"),
        ({"tags": [{"product_id": "prod_x", "x": 0.5, "y": -0.1}]}, "tags[0].y"),
        ({"tags": [{"product_id": "prod_x", "x": "0.5", "y": 0.5}]}, "tags[0].x"),
        (
            {"media": {"url": "https://cdn.example.com/a.jpg", "width": 0, "height": 10}},
            "media.width",
        ),
        ({"media": {"url": "ftp://cdn.example.com/a.jpg", "width": 10, "height": 10}}, "media.url"),
        ({"caption": "x" * 2201}, "caption"),
        ({"status": "archived"}, "status"),
        ({"media": None}, "media"),
    ],
)
def test_invalid_posts_name_the_field(api, merchant, product, change, param):
    response = api.post("/v1/posts", post_body(product, **change), key=merchant.secret)
    assert response.status_code == 422, response.body
    assert response.json["error"]["param"] == param


def test_another_merchants_post_does_not_exist_for_you(api, merchant, other_merchant, product):
    post = api.post("/v1/posts", post_body(product), key=merchant.secret).json
    assert api.get(f"/v1/posts/{post['id']}", key=other_merchant.secret).status_code == 404
    assert api.get("/v1/posts", key=other_merchant.secret).json["data"] == []
