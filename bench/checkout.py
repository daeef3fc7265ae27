"""Checkout: latency, DynamoDB requests per checkout, and throughput on one hot product.

The stack is the one `make run` serves, in this process: moto's server (one request at a time),
localstripe, and the app on Chalice's local server, driven over real HTTP. Every figure has a
floor measured in the same run against the same emulator:

- latency and throughput: one `TransactWriteItems` (reserve one variant, write one order)
  plus one strongly consistent `GetItem`, the least a checkout could cost in DynamoDB;
- requests: 2 (that transaction and that read), counted like the checkout's, with botocore's
  `before-call` event on every DynamoDB client of the process; a checkout that names a
  creator's referral code is counted too (its attribution costs one batch read).

A checkout also calls Stripe (localstripe here) and KMS; their cost is in its latency but not
in its floor, which is the point: the ratio shows what a checkout costs beyond its data.
"""

import base64
import json
import os
import statistics
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import Result

SEQUENTIAL = 40
CONCURRENT_BUYERS = 8
CONTENDED = 80
PROJECT_DIR = Path(__file__).resolve().parents[1]


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(  # noqa: S310 (our own loopback URL)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback only)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class _Stack:
    """The dev stack's parts, started in this process."""

    def __enter__(self):
        from devstack.api_server import ApiServer, load_app
        from devstack.emulator import AwsEmulator
        from devstack.environment import configure
        from devstack.stripe_standin import StripeStandin

        self._dir = tempfile.TemporaryDirectory()
        self.emulator = AwsEmulator()
        self.emulator.start()
        self.stripe = StripeStandin(Path(self._dir.name) / "localstripe.log")
        self.stripe.start(threading.Event())
        os.environ.pop("STRIPE_API_KEY", None)
        configure(self.emulator.endpoint_url, self.stripe.api_base)
        os.environ.setdefault(
            "SHOPPABLE_VAULT_INDEX_KEY", base64.b64encode(os.urandom(32)).decode()
        )

        from chalicelib import runtime as runtime_module
        from chalicelib.observability import logger
        from chalicelib.resources import provision

        logger.setLevel("WARNING")  # one line per request would drown the table

        self.rt = runtime_module.reset()
        provision(self.rt)
        config, app = load_app(PROJECT_DIR)
        self.api = ApiServer(config, app, 0)
        self.api.start()
        return self

    def __exit__(self, *exc) -> None:
        self.api.stop()
        self.stripe.stop()
        self.emulator.stop()
        self._dir.cleanup()


def _hot_variant(rt, on_hand: int) -> tuple[str, str, str]:
    from chalicelib.domain.catalog import ProductCreate
    from chalicelib.services.catalog import create_product
    from chalicelib.services.merchants import create_merchant

    merchant = create_merchant(rt.merchants, "Bench Shop")
    product = create_product(
        rt.catalog,
        merchant.merchant.id,
        ProductCreate.model_validate(
            {
                "title": "Hot sneaker",
                "variants": [
                    {
                        "sku": "HOT-42",
                        "price": {"amount": 12900, "currency": "EUR"},
                        "inventory": {"on_hand": on_hand},
                    }
                ],
            }
        ),
    )
    return product.variants[0].id, merchant.merchant.id, merchant.api_key.id


def _referral_code(rt, merchant_id: str, key_id: str) -> str:
    from chalicelib.domain.creators import CodeCreate, CreatorCreate
    from chalicelib.services.creators import create_code, create_creator

    creator = create_creator(
        rt.creators,
        merchant_id,
        CreatorCreate.model_validate(
            {"name": "Bench Creator", "email": "creator@example.com",
             "commission": {"rate_bps": 1000}}
        ),
        by_key=key_id,
    )  # fmt: skip
    return create_code(rt.creators, merchant_id, creator.id, CodeCreate(code="BENCH")).code


def _checkout_body(variant_id: str, n: int) -> dict:
    return {
        "lines": [{"variant_id": variant_id, "quantity": 1}],
        "customer": {"email": f"buyer{n}@example.com", "name": f"Buyer {n}"},
        "shipping_address": {
            "line1": "1 Main St",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
    }


def _floor_operation(rt, variant_id: str, n: int) -> None:
    """One reservation-and-order transaction plus one consistent read: a checkout's least."""
    from chalicelib.adapters.dynamodb import keys

    table = rt.settings.main_table
    variant_key = {k: {"S": v} for k, v in keys.variant(variant_id).items()}
    rt.dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": variant_key,
                    "UpdateExpression": "SET available = available - :q, reserved = reserved + :q",
                    "ConditionExpression": "available >= :q",
                    "ExpressionAttributeValues": {":q": {"N": "1"}},
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "pk": {"S": f"BENCH#{n}"},
                        "sk": {"S": "ORDER"},
                        "status": {"S": "pending_payment"},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )
    rt.dynamodb.get_item(TableName=table, Key=variant_key, ConsistentRead=True)


def _counter(client, service: str) -> list[int]:
    """Counts every request the client makes (the vault shares the runtime's clients)."""
    counter = [0]

    def count(**_):
        counter[0] += 1

    client.meta.events.register(f"before-call.{service}", count)
    return counter


def run() -> list[Result]:
    with _Stack() as stack:
        rt, url = stack.rt, f"{stack.api.api_base}/v1/checkouts"
        variant_id, merchant_id, key_id = _hot_variant(rt, on_hand=100_000)
        code = _referral_code(rt, merchant_id, key_id)
        for n in range(3):  # warm clients, caches and localstripe
            assert _post(url, _checkout_body(variant_id, n)) == 201
            _floor_operation(rt, variant_id, 10_000_000 + n)

        counter, kms = _counter(rt.dynamodb, "dynamodb"), _counter(rt.kms, "kms")
        checkout_ms, floor_ms, checkout_requests, floor_requests = [], [], [], []
        kms_before = kms[0]
        for n in range(SEQUENTIAL):
            before = counter[0]
            started = time.perf_counter()
            assert _post(url, _checkout_body(variant_id, 100 + n)) == 201
            checkout_ms.append((time.perf_counter() - started) * 1000)
            checkout_requests.append(counter[0] - before)
            kms_calls = kms[0] - kms_before

            before = counter[0]
            started = time.perf_counter()
            _floor_operation(rt, variant_id, n)
            floor_ms.append((time.perf_counter() - started) * 1000)
            floor_requests.append(counter[0] - before)

        attributed_requests = []
        for n in range(SEQUENTIAL // 4):
            before = counter[0]
            body = {**_checkout_body(variant_id, 500 + n), "referral_code": code}
            assert _post(url, body) == 201
            attributed_requests.append(counter[0] - before)

        with ThreadPoolExecutor(CONCURRENT_BUYERS) as pool:
            started = time.perf_counter()
            statuses = list(
                pool.map(
                    lambda n: _post(url, _checkout_body(variant_id, 1000 + n)), range(CONTENDED)
                )
            )
            checkout_rate = CONTENDED / (time.perf_counter() - started)
            started = time.perf_counter()
            list(pool.map(lambda n: _floor_operation(rt, variant_id, 2000 + n), range(CONTENDED)))
            floor_rate = CONTENDED / (time.perf_counter() - started)
        assert statuses.count(201) == CONTENDED, statuses

    return [
        Result(
            "checkout latency p50",
            statistics.median(checkout_ms),
            "ms",
            statistics.median(floor_ms),
        ),
        Result(
            "checkout latency p99",
            _percentile(checkout_ms, 0.99),
            "ms",
            _percentile(floor_ms, 0.99),
        ),
        Result(
            "dynamodb requests per checkout",
            statistics.mean(checkout_requests),
            "requests",
            statistics.mean(floor_requests),
        ),
        Result(
            "dynamodb requests per checkout with a referral code",
            statistics.mean(attributed_requests),
            "requests",
            statistics.mean(floor_requests),
        ),
        Result("kms calls per checkout (new buyers)", kms_calls / SEQUENTIAL, "calls"),
        Result(
            f"checkouts/s, one hot product, {CONCURRENT_BUYERS} buyers",
            checkout_rate,
            "checkouts/s",
            floor_rate,
        ),
    ]


if __name__ == "__main__":
    for row in run():
        print(row)
