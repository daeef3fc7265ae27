"""What the attacker suite needs of the `make run` stack: HTTP as a stranger or a merchant, a
fresh shop of its own, paying at localstripe, signing a Meta delivery, and reading everything
the stack holds (tables, queues, logs) to look for a person's values."""

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass

import boto3
import requests

from chalicelib.config import Settings
from chalicelib.domain.catalog import ProductCreate
from chalicelib.runtime import Runtime
from chalicelib.services.catalog import create_product
from chalicelib.services.merchants import create_merchant

STRIPE_KEY = ("sk_test_dev", "")
WAIT_SECONDS = 30


class Http:
    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def request(self, method, path, body=None, key=None, headers=None, raw=None):
        sent = dict(headers or {})
        if key:
            sent["Authorization"] = f"Bearer {key}"
        if raw is not None:
            sent.setdefault("Content-Type", "application/json")
            return self.session.request(
                method, self.base + path, data=raw, headers=sent, timeout=30
            )
        return self.session.request(method, self.base + path, json=body, headers=sent, timeout=30)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def stack_runtime(info: dict) -> Runtime:
    """The app's own code, pointed at the stack's emulator (as the operator's CLI would be)."""
    return Runtime(Settings(aws_endpoint_url=info["aws_endpoint_url"], region=info["aws_region"]))


@dataclass
class Shop:
    merchant_id: str
    key: str
    variant_id: str
    product_id: str


def open_shop(info: dict, stock: int = 50) -> Shop:
    """A merchant of the attacker suite's own, so its limits touch no other test's shop."""
    rt = stack_runtime(info)
    created = create_merchant(rt.merchants, f"Trust {uuid.uuid4().hex[:8]}")
    product = create_product(
        rt.catalog,
        created.merchant.id,
        ProductCreate.model_validate(
            {"title": "Wool scarf", "variants": [
                {"sku": "SCARF", "price": {"amount": 3900, "currency": "EUR"},
                 "inventory": {"on_hand": stock}}]}
        ),
    )  # fmt: skip
    return Shop(created.merchant.id, created.secret, product.variants[0].id, product.id)


def checkout(shop: Shop, customer: dict, address: dict, quantity: int = 1, **extra) -> dict:
    return {
        "lines": [{"variant_id": shop.variant_id, "quantity": quantity}],
        "customer": customer,
        "shipping_address": address,
        **extra,
    }


def pay(stripe: str, payment_intent_id: str) -> None:
    method = requests.post(
        f"{stripe}/v1/payment_methods",
        auth=STRIPE_KEY,
        data={"type": "card", "card[number]": "4242424242424242", "card[exp_month]": "12",
              "card[exp_year]": "2030", "card[cvc]": "123"},
        timeout=10,
    )  # fmt: skip
    assert method.status_code == 200, method.text
    intent = f"{stripe}/v1/payment_intents/{payment_intent_id}"
    attached = requests.post(
        intent, auth=STRIPE_KEY, data={"payment_method": method.json()["id"]}, timeout=10
    )
    assert attached.status_code == 200, attached.text
    assert requests.post(f"{intent}/confirm", auth=STRIPE_KEY, timeout=10).status_code == 200


def wait_for(check, what: str):
    """Poll `check` until it returns something true (the stack works in the background)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {WAIT_SECONDS} s for {what}")


def meta_signed(body: dict, secret: str) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def aws(info: dict, service: str):
    return boto3.client(
        service,
        endpoint_url=info["aws_endpoint_url"],
        region_name=info["aws_region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def tables_text(info: dict) -> str:
    """Every item of every table of the stack."""
    dynamodb = aws(info, "dynamodb")
    found = []
    for table in dynamodb.list_tables()["TableNames"]:
        pages = dynamodb.get_paginator("scan").paginate(TableName=table)
        found += [item for page in pages for item in page["Items"]]
    return json.dumps(found, default=str)


def queues_text(info: dict) -> str:
    """Every message waiting on every queue (left where it is)."""
    sqs = aws(info, "sqs")
    found = []
    for url in sqs.list_queues().get("QueueUrls", []):
        for _ in range(10):
            batch = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0
            ).get("Messages", [])
            found += [m["Body"] for m in batch]
            if len(batch) < 10:
                break
    return json.dumps(found)


def vault_items(info: dict) -> list[str]:
    dynamodb = aws(info, "dynamodb")
    table = Settings().vault_table
    pages = dynamodb.get_paginator("scan").paginate(TableName=table)
    return sorted(json.dumps(i, sort_keys=True, default=str) for p in pages for i in p["Items"])
