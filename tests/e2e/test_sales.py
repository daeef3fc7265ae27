"""The sale over real HTTP against the `make run` stack: contention for the last units, a
declined card, idempotent checkouts, and refunds through localstripe."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .test_payments import _order_status, _pay

pytestmark = pytest.mark.e2e

BUYER = {
    "customer": {"email": "flash@example.com", "name": "Flash Buyer"},
    "shipping_address": {
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
    },
}


def _product(api, key: str, on_hand: int) -> dict:
    body = {
        "title": "Limited sneaker",
        "variants": [
            {
                "sku": f"LTD-{time.monotonic_ns()}",
                "price": {"amount": 15900, "currency": "EUR"},
                "inventory": {"on_hand": on_hand},
            }
        ],
    }
    created = api.post("/v1/products", body, key=key)
    assert created.status_code == 201, created.text
    return created.json()


def _checkout(api, variant_id: str, quantity: int = 1, headers: dict | None = None):
    return requests.post(
        f"{api.base}/v1/checkouts",
        json={"lines": [{"variant_id": variant_id, "quantity": quantity}], **BUYER},
        headers=headers or {},
        timeout=60,
    )


def _wait_for(api, order_id: str, key: str, wanted: str) -> None:
    deadline = time.monotonic() + 20
    while (status := _order_status(api, order_id, key)) != wanted:
        assert time.monotonic() < deadline, f"the order is still {status}, not {wanted}"
        time.sleep(0.3)


def test_forty_buyers_for_five_units_make_exactly_five_orders(api, devstack):
    key = devstack.info["api_key"]
    product = _product(api, key, on_hand=5)
    variant_id = product["variants"][0]["id"]
    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(lambda _: _checkout(api, variant_id), range(40)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 5, statuses
    assert statuses.count(409) == 35, statuses
    assert all(
        r.json()["error"]["code"] == "out_of_stock" for r in responses if r.status_code == 409
    )
    inventory = api.get(f"/v1/products/{product['id']}", key=key).json()["variants"][0]
    assert inventory["inventory"] == {"on_hand": 5, "reserved": 5, "available": 0}
    orders = {r.json()["order_id"] for r in responses if r.status_code == 201}
    assert len(orders) == 5


def test_the_same_checkout_twice_is_one_order_and_one_payment(api, devstack):
    key = devstack.info["api_key"]
    variant_id = _product(api, key, on_hand=3)["variants"][0]["id"]
    headers = {"Idempotency-Key": f"cart-{time.monotonic_ns()}"}
    first, again = (_checkout(api, variant_id, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 201
    assert first.json()["order_id"] == again.json()["order_id"]
    assert first.json()["payment_intent_id"] == again.json()["payment_intent_id"]
    product = api.get(f"/v1/products/{_product_of(api, key, variant_id)}", key=key).json()
    assert product["variants"][0]["inventory"]["reserved"] == 1


def _product_of(api, key: str, variant_id: str) -> str:
    for product in api.get("/v1/products?limit=100", key=key).json()["data"]:
        if any(v["id"] == variant_id for v in product["variants"]):
            return product["id"]
    raise AssertionError(variant_id)


def test_a_declined_card_fails_the_order_and_gives_the_stock_back(api, devstack):
    info, key = devstack.info, devstack.info["api_key"]
    product = _product(api, key, on_hand=2)
    placed = _checkout(api, product["variants"][0]["id"]).json()
    with pytest.raises(AssertionError):
        _pay(info["stripe_api_base"], placed["payment_intent_id"], card="4000000000000341")
    _wait_for(api, placed["order_id"], key, "payment_failed")
    inventory = api.get(f"/v1/products/{product['id']}", key=key).json()["variants"][0]
    assert inventory["inventory"] == {"on_hand": 2, "reserved": 0, "available": 2}


def test_paid_fulfilled_then_refunded_in_part_and_in_full(api, devstack):
    info, key = devstack.info, devstack.info["api_key"]
    product = _product(api, key, on_hand=4)
    placed = _checkout(api, product["variants"][0]["id"], quantity=2).json()
    _pay(info["stripe_api_base"], placed["payment_intent_id"])
    _wait_for(api, placed["order_id"], key, "paid")
    oid = placed["order_id"]
    shipped = api.post(
        f"/v1/orders/{oid}/fulfill", {"carrier": "UPS", "tracking_number": "1Z999"}, key=key
    )
    assert shipped.json()["status"] == "fulfilled"
    partial = api.post(f"/v1/orders/{oid}/refund", {"amount": 5000}, key=key)
    assert partial.status_code == 200, partial.text
    assert partial.json()["status"] == "partially_refunded"
    full = api.post(f"/v1/orders/{oid}/refund", {}, key=key)
    assert full.json()["status"] == "refunded"
    assert full.json()["amounts"]["refunded"] == 31800
    refunds = requests.get(
        f"{info['stripe_api_base']}/v1/refunds", auth=("sk_test_dev", ""), timeout=10
    ).json()["data"]
    ours = [r["amount"] for r in refunds if r.get("payment_intent") == placed["payment_intent_id"]]
    assert sorted(ours) == [5000, 26800]
