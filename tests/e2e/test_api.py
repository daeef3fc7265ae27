"""The API of the running stack, over real HTTP: health, tags resolved for shoppers, the seeded
demo post, and authentication."""

import pytest

pytestmark = pytest.mark.e2e

SHIRT = {
    "title": "Striped tee",
    "images": ["https://cdn.example.com/tee.jpg"],
    "variants": [
        {
            "sku": "TEE-S",
            "price": {"amount": 2500, "currency": "EUR"},
            "options": {"size": "S"},
            "inventory": {"on_hand": 3},
        },
        {
            "sku": "TEE-M",
            "price": {"amount": 2700, "currency": "EUR"},
            "options": {"size": "M"},
            "inventory": {"on_hand": 0},
        },
    ],
}


def test_health_is_ok(api):
    response = api.get("/v1/health")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_the_storefront_resolves_each_tag(api, devstack):
    key = devstack.info["api_key"]
    product = api.post("/v1/products", SHIRT, key=key)
    assert product.status_code == 201, product.text
    product = product.json()
    out_of_stock = product["variants"][1]["id"]
    post = api.post(
        "/v1/posts",
        {
            "media": {"url": "https://cdn.example.com/look.jpg", "width": 1080, "height": 1080},
            "caption": "New in",
            "tags": [
                {"product_id": product["id"], "x": 0.3, "y": 0.4},
                {"product_id": product["id"], "variant_id": out_of_stock, "x": 0.7, "y": 0.8},
            ],
        },
        key=key,
    )
    assert post.status_code == 201, post.text

    shown = api.get(f"/v1/storefront/posts/{post.json()['id']}")

    assert shown.status_code == 200, shown.text
    whole, medium = shown.json()["tags"]
    assert whole["title"] == "Striped tee"
    assert whole["price"] == {"amount": 2500, "currency": "EUR"}
    assert whole["availability"] == "in_stock"
    assert medium["price"] == {"amount": 2700, "currency": "EUR"}
    assert medium["availability"] == "out_of_stock"


def test_seeded_demo_post_is_in_the_storefront(api, devstack):
    shown = api.get(f"/v1/storefront/posts/{devstack.info['post_id']}")

    assert shown.status_code == 200, shown.text
    tags = {tag["product_id"]: tag for tag in shown.json()["tags"]}
    assert len(tags) == 2
    assert tags[devstack.info["product_id"]]["availability"] == "in_stock"


def test_merchant_route_without_a_key_is_401(api):
    response = api.get("/v1/products")

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication"


def test_unknown_paths_and_methods_answer_the_contracts_404_and_405(api):
    for path in ("/v1/nothing-here", "/v1/products/prod_x/colours", "/", "/v2/products"):
        for key in (None, "sk_test_whatever"):  # API Gateway's 403 differed with a key
            missing = api.get(path, key=key)
            assert missing.status_code == 404, (path, missing.text)
            assert missing.headers["Content-Type"] == "application/json"
            assert missing.json() == {
                "error": {
                    "type": "not_found",
                    "code": "route_missing",
                    "message": "No such route: check the method and the path.",
                    "param": None,
                }
            }
    refused = api.request("DELETE", "/v1/checkouts")
    assert refused.status_code == 405
    assert refused.headers["Allow"] == "OPTIONS, POST"
    assert refused.json()["error"]["code"] == "method_not_allowed"
