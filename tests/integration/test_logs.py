"""Logs are one JSON object a line, carrying the request id and the merchant id."""

import json

from tests.fixtures.app import product_body


def test_one_structured_line_per_request_with_ids(api, merchant, log_lines):
    api.post("/v1/products", product_body(), key=merchant.secret)
    api.get("/v1/storefront/posts/post_missing")
    lines = log_lines()
    requests = [line for line in lines if line["message"] == "request"]
    assert [r["route"] for r in requests] == [
        "POST /v1/products",
        "GET /v1/storefront/posts/{post_id}",
    ]
    created, missing = requests
    assert created["merchant_id"] == merchant.merchant.id
    assert created["status"] == 201
    assert "merchant_id" not in missing
    assert missing["status"] == 404
    assert all(r["request_id"] for r in requests)
    assert "Linen shirt" not in json.dumps(lines)
