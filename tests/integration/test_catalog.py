"""Catalog routes through the Chalice app, DynamoDB emulated by moto."""

import pytest

from tests.fixtures.app import product_body


def test_created_product_shows_inventory_with_reserved_and_available(api, merchant, product):
    assert product["object"] == "product"
    assert product["id"].startswith("prod_")
    small, medium = product["variants"]
    assert small["id"].startswith("var_")
    assert small["price"] == {"amount": 4900, "currency": "EUR"}
    assert small["inventory"] == {"on_hand": 5, "reserved": 0, "available": 5}
    assert medium["inventory"]["available"] == 0
    got = api.get(f"/v1/products/{product['id']}", key=merchant.secret)
    assert got.status_code == 200
    assert got.json == product


def test_list_is_newest_first_with_a_cursor_that_walks_every_product(api, merchant):
    created = [
        api.post("/v1/products", product_body(title=f"Product {i}"), key=merchant.secret).json["id"]
        for i in range(5)
    ]
    seen, cursor = [], None
    while True:
        path = "/v1/products?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path, key=merchant.secret).json
        assert len(page["data"]) <= 2
        seen += [p["id"] for p in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(created))


def test_a_cursor_cannot_be_forged_to_read_another_listing(api, merchant, other_merchant):
    for _ in range(2):
        api.post("/v1/products", product_body(), key=other_merchant.secret)
    cursor = api.get("/v1/products?limit=1", key=other_merchant.secret).json["next_cursor"]
    response = api.get(f"/v1/products?cursor={cursor}", key=merchant.secret)
    assert response.status_code == 400
    assert response.json["error"]["param"] == "cursor"
    assert api.get("/v1/products?cursor=%%%", key=merchant.secret).status_code == 400


def test_patch_changes_fields_adds_variants_and_sets_stock(api, merchant, product):
    small = product["variants"][0]
    response = api.patch(
        f"/v1/products/{product['id']}",
        {
            "title": "Linen shirt, washed",
            "variants": [
                {
                    "id": small["id"],
                    "price": {"amount": 4500, "currency": "EUR"},
                    "inventory": {"on_hand": 12},
                },
                {
                    "sku": "SHIRT-L",
                    "price": {"amount": 5900, "currency": "EUR"},
                    "options": {"size": "L"},
                    "inventory": {"on_hand": 3},
                },
            ],
        },
        key=merchant.secret,
    )
    assert response.status_code == 200, response.body
    patched = response.json
    assert patched["title"] == "Linen shirt, washed"
    assert patched["description"] == product["description"]
    assert [v["sku"] for v in patched["variants"]] == ["SHIRT-S", "SHIRT-M", "SHIRT-L"]
    assert patched["variants"][0]["price"]["amount"] == 4500
    assert patched["variants"][0]["inventory"]["on_hand"] == 12
    assert patched["variants"][2]["inventory"]["available"] == 3
    assert api.get(f"/v1/products/{product['id']}", key=merchant.secret).json == patched


def test_stock_cannot_be_set_below_what_is_reserved(api, rt, merchant, product):
    small = product["variants"][0]
    rt.table.update(
        {"pk": f"VAR#{small['id']}", "sk": "VARIANT"},
        "SET reserved = :r, available = on_hand - :r",
        values={":r": 4},
    )
    response = api.patch(
        f"/v1/products/{product['id']}",
        {"title": "Changed", "variants": [{"id": small["id"], "inventory": {"on_hand": 3}}]},
        key=merchant.secret,
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "inventory_below_reserved"
    assert response.json["error"]["param"] == "variants[0].inventory.on_hand"
    unchanged = api.get(f"/v1/products/{product['id']}", key=merchant.secret).json
    assert unchanged["title"] == product["title"]
    assert unchanged["variants"][0]["inventory"] == {"on_hand": 5, "reserved": 4, "available": 1}


def test_patch_rejects_a_variant_of_another_product(api, merchant, product):
    other = api.post("/v1/products", product_body(), key=merchant.secret).json
    response = api.patch(
        f"/v1/products/{product['id']}",
        {"variants": [{"id": other["variants"][0]["id"], "inventory": {"on_hand": 1}}]},
        key=merchant.secret,
    )
    assert response.status_code == 422
    assert response.json["error"]["param"] == "variants[0].id"


def test_patch_keeps_skus_unique_and_one_currency(api, merchant, product):
    duplicate = api.patch(
        f"/v1/products/{product['id']}",
        {"variants": [{"sku": "SHIRT-S", "price": {"amount": 1, "currency": "EUR"}}]},
        key=merchant.secret,
    )
    assert duplicate.status_code == 422
    other_currency = api.patch(
        f"/v1/products/{product['id']}",
        {"variants": [{"sku": "SHIRT-XL", "price": {"amount": 1, "currency": "USD"}}]},
        key=merchant.secret,
    )
    assert other_currency.status_code == 422
    assert len(api.get(f"/v1/products/{product['id']}", key=merchant.secret).json["variants"]) == 2


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"title": ""}, "title"),
        (
            {"variants": [{"sku": "A", "price": {"amount": 19.99, "currency": "EUR"}}]},
            "variants[0].price.amount",
        ),
        (
            {"variants": [{"sku": "A", "price": {"amount": -1, "currency": "EUR"}}]},
            "variants[0].price.amount",
        ),
        (
            {"variants": [{"sku": "A", "price": {"amount": 100, "currency": "eur"}}]},
            "variants[0].price.currency",
        ),
        (
            {"variants": [{"sku": "A", "price": {"amount": 100, "currency": "XYZ"}}]},
            "variants[0].price.currency",
        ),
        (
            {"variants": [{"sku": "A", "price": {"amount": "100", "currency": "EUR"}}]},
            "variants[0].price.amount",
        ),
        (
            {
                "variants": [
                    {
                        "sku": "A",
                        "price": {"amount": 1, "currency": "EUR"},
                        "inventory": {"on_hand": -3},
                    }
                ]
            },
            "variants[0].inventory.on_hand",
        ),
        ({"images": ["http://insecure.example.com/a.jpg"]}, "images[0]"),
        ({"variants": []}, "variants"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_products_name_the_field_and_store_nothing(api, merchant, change, param):
    response = api.post("/v1/products", product_body(**change), key=merchant.secret)
    assert response.status_code == 422, response.body
    assert response.json["error"]["type"] == "invalid_request"
    assert response.json["error"]["param"] == param
    assert api.get("/v1/products", key=merchant.secret).json["data"] == []


def test_another_merchants_product_does_not_exist_for_you(api, merchant, other_merchant, product):
    for response in (
        api.get(f"/v1/products/{product['id']}", key=other_merchant.secret),
        api.patch(f"/v1/products/{product['id']}", {"title": "Mine"}, key=other_merchant.secret),
        api.get("/v1/products/prod_doesnotexist", key=merchant.secret),
        api.get("/v1/products/not-an-id", key=merchant.secret),
    ):
        assert response.status_code == 404
        assert response.json["error"]["type"] == "not_found"
    assert api.get("/v1/products", key=other_merchant.secret).json["data"] == []
    assert api.get(f"/v1/products/{product['id']}", key=merchant.secret).json["title"] == (
        "Linen shirt"
    )


def test_a_zero_price_needs_the_free_flag(api, merchant):
    zero = product_body()
    zero["variants"][0]["price"]["amount"] = 0
    refused = api.post("/v1/products", zero, key=merchant.secret)
    assert refused.status_code == 422
    assert refused.json["error"]["param"].startswith("variants[0]")
    zero["variants"][0]["free"] = True
    created = api.post("/v1/products", zero, key=merchant.secret)
    assert created.status_code == 201, created.body
    assert created.json["variants"][0]["free"] is True

    paid = api.post("/v1/products", product_body(), key=merchant.secret).json
    variant_id = paid["variants"][0]["id"]
    to_zero = {"variants": [{"id": variant_id, "price": {"amount": 0, "currency": "EUR"}}]}
    patched = api.patch(f"/v1/products/{paid['id']}", to_zero, key=merchant.secret)
    assert patched.status_code == 422 and patched.json["error"]["param"] == "variants[0].price"
    to_zero["variants"][0]["free"] = True
    assert api.patch(f"/v1/products/{paid['id']}", to_zero, key=merchant.secret).status_code == 200
    wrong = {
        "variants": [{"sku": "NEW", "price": {"amount": 100, "currency": "EUR"}, "free": True}]
    }
    assert api.patch(f"/v1/products/{paid['id']}", wrong, key=merchant.secret).status_code == 422
