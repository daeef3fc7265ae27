"""`events/*.json`: sample deliveries, signed as each platform signs them.

A sample is `{"route": "/v1/webhooks/<platform>", "body": {...}}`, or one of the platforms' own
published samples in tests/platform_samples that the corpus delivers (see devstack/corpus.py).
`events/storefront-beacon.json` is the storefront widget's public beacon (no signature; its
`post_demo` stands for the demo post). `events/outbox-order-paid.json` is not a delivery but
the record Lambda hands `on_outbox` from the main table's stream (`{"function", "event"}`), for
a console test of the deployed function.
`signed` turns it into the
exact bytes and headers the platform would send, with the dev secrets from `dev.json`
(`meta_app_secret`, `tiktok_app_key` and `tiktok_app_secret`, `x_consumer_secret`,
`stripe_webhook_secret`); `send` posts it to the running API.

A Stripe sample about an order (`metadata.order_id`) would name an order that does not exist
on a fresh stack, and its consumer would retry it until it is dead-lettered. `about_order`
makes it about a real one instead: the order given, or a new checkout of the demo product made
through the API as a storefront would; the event then carries that order's PaymentIntent,
amount and currency, and an id of its own (the same sample sent twice would be a duplicate).
"""

import hashlib
import hmac
import json
import time
import urllib.request
from pathlib import Path

from chalicelib.adapters.platforms import meta, tiktok, x


def load(path: Path) -> tuple[str, bytes]:
    sample = json.loads(Path(path).read_text())
    if isinstance(sample, dict) and "function" in sample and "event" in sample:
        raise ValueError(f"{path} is a Lambda event for {sample['function']}, not a delivery")
    if isinstance(sample, dict) and "route" in sample and "body" in sample:
        return sample["route"], json.dumps(sample["body"], separators=(",", ":")).encode()
    from .corpus import delivery_for

    delivery = delivery_for(path)
    if delivery is None:
        raise ValueError(f"{path} is not a sample delivery (events/ or tests/platform_samples)")
    return delivery.route, delivery.raw


def signed(route: str, raw: bytes, secrets: dict) -> dict[str, str]:
    if route.startswith("/v1/storefront/"):
        return {}  # public: the storefront's widget signs nothing
    platform = route.rstrip("/").rsplit("/", 1)[-1]
    if platform == "meta":
        return {"X-Hub-Signature-256": meta.signature(secrets["meta_app_secret"], raw)}
    if platform == "tiktok":
        key, secret = secrets["tiktok_app_key"], secrets["tiktok_app_secret"]
        return {"Authorization": tiktok.signature(key, secret, raw)}
    if platform == "x":
        return {"x-twitter-webhooks-signature": x.signature(secrets["x_consumer_secret"], raw)}
    if platform == "stripe":
        at = int(time.time())
        digest = hmac.new(secrets["stripe_webhook_secret"].encode(), f"{at}.".encode() + raw,
                          hashlib.sha256).hexdigest()  # fmt: skip
        return {"Stripe-Signature": f"t={at},v1={digest}"}
    raise ValueError(f"no signing rule for {route}")


DEMO_POST = "post_demo"  # in a sample, the demo shop's post

SAMPLE_BUYER = {
    "customer": {"email": "sample.buyer@example.com", "name": "Sample Buyer"},
    "shipping_address": {
        "line1": "1 Sample Street",
        "city": "Paris",
        "postal_code": "75001",
        "country": "FR",
    },
}


class SampleError(Exception):
    pass


def is_about_an_order(route: str, body: dict) -> bool:
    stripe_object = (body.get("data") or {}).get("object") or {}
    return route.endswith("/stripe") and "order_id" in (stripe_object.get("metadata") or {})


def about_order(body: dict, dev: dict, order_id: str | None) -> tuple[dict, dict]:
    """The sample about a real order (see the module's docstring); returns it and the order."""
    if order_id is None:
        order_id = _demo_checkout(dev)["order_id"]
    status, order = _call(dev, "GET", f"/v1/orders/{order_id}", key=dev["api_key"])
    if status != 200:
        raise SampleError(f"no order {order_id} at the demo merchant ({status})")
    if not order.get("payment_intent_id"):
        raise SampleError(f"{order_id} has no PaymentIntent (it was not a checkout)")
    intent_id, amounts = order["payment_intent_id"], order["amounts"]
    stripe_object = dict(body["data"]["object"])
    stripe_object.update(
        id=intent_id,
        amount=amounts["total"],
        currency=amounts["currency"].lower(),
        metadata={"order_id": order["id"], "merchant_id": dev["merchant_id"]},
    )
    if "amount_received" in stripe_object:
        stripe_object["amount_received"] = amounts["total"]
    event = {**body, "id": f"{body['id']}_{order['id']}", "data": {"object": stripe_object}}
    return event, order


def _demo_checkout(dev: dict) -> dict:
    status, product = _call(dev, "GET", f"/v1/products/{dev['product_id']}", key=dev["api_key"])
    in_stock = [v for v in product.get("variants", []) if v["inventory"]["available"] > 0]
    if status != 200 or not in_stock:
        raise SampleError("the demo product has nothing left to buy: name an order with --order")
    line = {"variant_id": in_stock[0]["id"], "quantity": 1}
    body = {"post_id": dev["post_id"], "lines": [line], **SAMPLE_BUYER}
    status, checkout = _call(dev, "POST", "/v1/checkouts", body)
    if status != 201:
        raise SampleError(f"the demo checkout was refused ({status}): {checkout}")
    return checkout


def _call(dev: dict, method: str, path: str, body=None, key: str | None = None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    data = json.dumps(body).encode() if body is not None else None
    status, text = _request(dev["api_base"] + path, method, data, headers)
    return status, json.loads(text) if text else {}


def send(path: Path, dev: dict, order_id: str | None = None) -> tuple[int, str, dict | None]:
    """Sign and post the sample; the order it was made about, for a Stripe one."""
    route, raw = load(path)
    order = None
    body = json.loads(raw)
    if is_about_an_order(route, body):
        event, order = about_order(body, dev, order_id)
        raw = json.dumps(event, separators=(",", ":")).encode()
    elif order_id is not None:
        raise SampleError(f"{path} is not about an order: --order does not apply")
    if body.get("post_id") == DEMO_POST:
        raw = json.dumps({**body, "post_id": dev["post_id"]}, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **signed(route, raw, dev)}
    status, text = _request(dev["api_base"] + route, "POST", raw, headers)
    return status, text, order


def post(route: str, raw: bytes, dev: dict) -> tuple[int, str]:
    """Sign `raw` as the route's platform does and post it to the running API, as it is."""
    headers = {"Content-Type": "application/json", **signed(route, raw, dev)}
    return _request(dev["api_base"] + route, "POST", raw, headers)


def _request(url: str, method: str, data: bytes | None, headers: dict) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 (the dev API's own URL, from dev.json)
        url, data=data, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
