"""`Idempotency-Key` on creating POSTs, with Stripe's rules."""

from tests.fixtures.app import product_body


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
