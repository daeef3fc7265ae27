"""`Idempotency-Key` on creating POSTs, with Stripe's rules."""

import hashlib
import json

from tests.fixtures.app import product_body

from .sales_helpers import checkout_body


def count_products(api, key):
    return len(api.get("/v1/products", key=key).json["data"])


def test_the_same_request_twice_creates_once_and_answers_the_same(api, merchant):
    headers = {"Idempotency-Key": "create-shirt-1"}
    first = api.post("/v1/products", product_body(), key=merchant.secret, headers=headers)
    again = api.post("/v1/products", product_body(), key=merchant.secret, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert count_products(api, merchant.secret) == 1


def test_the_same_key_with_another_body_is_a_conflict(api, merchant):
    headers = {"Idempotency-Key": "create-shirt-2"}
    api.post("/v1/products", product_body(), key=merchant.secret, headers=headers)
    reused = api.post(
        "/v1/products", product_body(title="Other"), key=merchant.secret, headers=headers
    )
    assert reused.status_code == 409
    assert reused.json["error"]["code"] == "idempotency_key_reused"
    assert count_products(api, merchant.secret) == 1


def test_keys_are_per_merchant(api, merchant, other_merchant):
    headers = {"Idempotency-Key": "shared-key"}
    a = api.post("/v1/products", product_body(), key=merchant.secret, headers=headers)
    b = api.post("/v1/products", product_body(), key=other_merchant.secret, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json["id"] != b.json["id"]


def test_a_rejected_request_stores_nothing_not_even_its_key(api, merchant):
    headers = {"Idempotency-Key": "retry-after-fix"}
    body = product_body()
    body["variants"][0]["price"]["currency"] = "USD"
    failed = api.post("/v1/products", body, key=merchant.secret, headers=headers)
    assert failed.status_code == 422
    fixed = api.post("/v1/products", product_body(), key=merchant.secret, headers=headers)
    assert fixed.status_code == 201
    assert count_products(api, merchant.secret) == 1


def test_overlong_keys_are_rejected(api, merchant):
    headers = {"Idempotency-Key": "k" * 256}
    response = api.post("/v1/products", product_body(), key=merchant.secret, headers=headers)
    assert response.status_code == 422
    assert response.json["error"]["param"] == "Idempotency-Key"
    assert count_products(api, merchant.secret) == 0


# What is kept, and who shares a key space


def _idempotency_items(rt) -> str:
    items = rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"]
    return json.dumps([i for i in items if i["pk"]["S"].startswith("IDEM#")])


def test_stored_answers_keep_no_secret_and_no_personal_value(api, rt, merchant, product):
    headers = {"Idempotency-Key": "cart-kept"}
    first = api.post("/v1/checkouts", checkout_body(product), headers=headers)
    assert first.status_code == 201
    kept = _idempotency_items(rt)
    assert first.json["client_secret"] not in kept
    for value in ("J***", "j***@example.com", "Jane", "jane.doe", "rue de la Paix"):
        assert value not in kept, value
    body = json.dumps(checkout_body(product)).encode()
    assert hashlib.sha256(b"POST /v1/checkouts\n" + body).hexdigest() not in kept
    again = api.post("/v1/checkouts", checkout_body(product), headers=headers)
    assert again.json == first.json, "the replay restores the secret and the buyer"


def test_a_storefront_key_someone_else_used_does_not_block_the_buyer(api, merchant, product):
    headers = {"Idempotency-Key": "cart-1"}
    squatter = checkout_body(product, quantities=(1,))
    squatter["customer"] = {"email": "squatter@example.com", "name": "Squat Ter"}
    assert api.post("/v1/checkouts", squatter, headers=headers).status_code == 201
    mine = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)), headers=headers)
    assert mine.status_code == 201, mine.body
    assert mine.json["customer"]["email"] == "j***@example.com"
    assert len(api.get("/v1/orders", key=merchant.secret).json["data"]) == 2


def test_the_same_storefront_key_at_two_shops_is_two_keys(api, merchant, other_merchant, product):
    other = api.post("/v1/products", product_body(), key=other_merchant.secret).json
    headers = {"Idempotency-Key": "cart-1"}
    a = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)), headers=headers)
    b = api.post("/v1/checkouts", checkout_body(other, quantities=(1,)), headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json["order_id"] != b.json["order_id"]
