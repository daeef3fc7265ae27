"""A storefront checkout paid at the Stripe stand-in: localstripe's signed webhook reaches the
stack's Stripe route, goes through the ingest queue to its consumer, and the order is paid."""

import time

import pytest
import requests

pytestmark = pytest.mark.e2e

STRIPE_KEY = ("sk_test_dev", "")
DEADLINE_SECONDS = 20


def _pay(stripe: str, payment_intent_id: str, card: str = "4242424242424242") -> None:
    method = requests.post(
        f"{stripe}/v1/payment_methods",
        auth=STRIPE_KEY,
        data={
            "type": "card",
            "card[number]": card,
            "card[exp_month]": "12",
            "card[exp_year]": "2030",
            "card[cvc]": "123",
        },
        timeout=10,
    )
    assert method.status_code == 200, method.text
    intent = f"{stripe}/v1/payment_intents/{payment_intent_id}"
    attached = requests.post(
        intent, auth=STRIPE_KEY, data={"payment_method": method.json()["id"]}, timeout=10
    )
    assert attached.status_code == 200, attached.text
    confirmed = requests.post(f"{intent}/confirm", auth=STRIPE_KEY, timeout=10)
    assert confirmed.status_code == 200, confirmed.text


def _order_status(api, order_id: str, key: str) -> str:
    return api.get(f"/v1/orders/{order_id}", key=key).json()["status"]


def test_a_checkout_paid_at_stripe_becomes_a_paid_order(api, devstack):
    info = devstack.info
    product = api.get(f"/v1/products/{info['product_id']}", key=info["api_key"]).json()
    in_stock = next(v for v in product["variants"] if v["inventory"]["available"] > 0)
    checkout = api.post(
        "/v1/checkouts",
        {
            "post_id": info["post_id"],
            "lines": [{"variant_id": in_stock["id"], "quantity": 1}],
            "customer": {"email": "jane@example.com", "name": "Jane Doe"},
            "shipping_address": {
                "line1": "12 rue de la Paix",
                "city": "Paris",
                "postal_code": "75002",
                "country": "FR",
            },
        },
    )
    assert checkout.status_code == 201, checkout.text
    order_id = checkout.json()["order_id"]

    _pay(info["stripe_api_base"], checkout.json()["payment_intent_id"])

    deadline = time.monotonic() + DEADLINE_SECONDS
    while (status := _order_status(api, order_id, info["api_key"])) != "paid":
        assert time.monotonic() < deadline, f"the order is still {status}"
        time.sleep(0.5)
