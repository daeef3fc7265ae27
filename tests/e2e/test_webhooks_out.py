"""The issue's "done when", on the `make run` stack over real HTTP: a merchant registers an
endpoint, a buyer buys from the demo post and pays at the Stripe stand-in, and the receiver
gets `order.created` then `order.paid`, each verified with the `standardwebhooks` package;
stopped and started again on the same port, it gets what it missed from the retries."""

import time

import pytest
from standardwebhooks.webhooks import Webhook

from devstack.receiver import Receiver

from .test_payments import _pay

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 60


def _types(receiver: Receiver, secret: str) -> list[str]:
    return [Webhook(secret).verify(d.body, d.headers)["type"] for d in receiver.deliveries]


def test_order_events_reach_a_receiver_and_missed_ones_come_with_retries(api, devstack):
    info = devstack.info
    key = info["api_key"]
    # Other tests (the fuzzer) may have left endpoints on the demo merchant: start afresh.
    for old in api.get("/v1/webhook_endpoints?limit=100", key=key).json()["data"]:
        api.request("DELETE", f"/v1/webhook_endpoints/{old['id']}", key=key)
    receiver = Receiver().start()
    try:
        created = api.post(
            "/v1/webhook_endpoints",
            {"url": receiver.url, "enabled_events": ["order.created", "order.paid",
                                                     "order.fulfilled"]},
            key=key,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        product = api.get(f"/v1/products/{info['product_id']}", key=key).json()
        in_stock = next(v for v in product["variants"] if v["inventory"]["available"] > 0)
        checkout = api.post(
            "/v1/checkouts",
            {
                "post_id": info["post_id"],
                "lines": [{"variant_id": in_stock["id"], "quantity": 1}],
                "customer": {"email": "jane@example.com", "name": "Jane Doe"},
                "shipping_address": {"line1": "1 Main St", "city": "Paris",
                                     "postal_code": "75002", "country": "FR"},
            },
        )  # fmt: skip
        assert checkout.status_code == 201, checkout.text
        _pay(info["stripe_api_base"], checkout.json()["payment_intent_id"])
        receiver.wait_for(2, timeout=WAIT_SECONDS)
        assert _types(receiver, secret) == ["order.created", "order.paid"]
    finally:
        receiver.stop()

    order_id = checkout.json()["order_id"]
    fulfilled = api.post(
        f"/v1/orders/{order_id}/fulfill", {"carrier": "UPS", "tracking_number": "1Z"}, key=key
    )
    assert fulfilled.status_code == 200, fulfilled.text
    endpoint = created.json()["id"]
    deadline = time.monotonic() + WAIT_SECONDS
    while _latest_attempt(api, endpoint, key) != "failed":
        assert time.monotonic() < deadline, "no failed attempt while the receiver was down"
        time.sleep(0.5)

    again = Receiver(port=receiver.port).start()
    try:
        again.wait_for(1, timeout=WAIT_SECONDS)
        assert _types(again, secret) == ["order.fulfilled"]
    finally:
        again.stop()


def _latest_attempt(api, endpoint: str, key: str) -> str:
    attempts = api.get(f"/v1/webhook_endpoints/{endpoint}/deliveries", key=key).json()["data"]
    return attempts[0]["status"] if attempts else ""


def test_the_reference_page_is_served_from_vendored_files(api, devstack):
    import re

    page = api.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/") for s in sources)  # nothing from a CDN
    for source in sources:
        assert api.get(source).status_code == 200, source
    assert api.get("/docs/../app.py").status_code != 200
    assert api.get("/v1/openapi.json").json()["servers"][0]["url"].startswith("http://127.0.0.1")
