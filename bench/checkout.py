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

Then `PAID` checkouts are taken all the way to paid (bench/to_paid.py) with every request
metered (bench/metering.py): requests per checkout and per checkout-to-paid by service; the
write units each item key takes per checkout, and from the hot variant's the projected
ceiling of one variant's checkouts per second at a partition's 1,000 write units per second
(one bucket: every checkout of it writes its one item); and the AWS cost of 1,000
checkouts-to-paid in each region of `bench/prices.json` (bench/costs.py). Rows that
`bench/baseline.json` holds show their figure before issue 15's changes too.
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
from dataclasses import replace
from pathlib import Path

from bench import Result

SEQUENTIAL = 40
PAID = 10  # checkouts metered all the way to paid
PARTITION_WRITE_UNITS = 1000  # per second: DynamoDB's ceiling for one partition, so one item
BASELINE = Path(__file__).with_name("baseline.json")
CONCURRENT_BUYERS = 8
CONTENDED = 80
PROJECT_DIR = Path(__file__).resolve().parents[1]


def _post(url: str, body: dict) -> int:
    request = urllib.request.Request(  # noqa: S310 (our own loopback URL)
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
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
    try:
        _reserve_and_place(rt, table, variant_key, n)
    except rt.dynamodb.exceptions.TransactionCanceledException as cancelled:
        # The SDK retried a transaction whose answer was lost and the emulator, unlike
        # DynamoDB, ignores the retry's ClientRequestToken: the order is there, as a checkout
        # treats it (services/checkout.py, AlreadyExists).
        reasons = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
        if reasons[1:] != ["ConditionalCheckFailed"]:
            raise
    rt.dynamodb.get_item(TableName=table, Key=variant_key, ConsistentRead=True)


def _reserve_and_place(rt, table: str, variant_key: dict, n: int) -> None:
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
        metered = _to_paid(stack, variant_id)

    return _with_baseline(
        [
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
            *metered,
        ]
    )


def _key_kind(slot: tuple[str, tuple[str, str]]) -> str:
    """An item key without its ids: `table VAR#…/VARIANT`."""
    table, (pk, sk) = slot
    return f"{table.removeprefix('shoppable-')} {pk.split('#')[0]}#/{sk.split('#')[0]}"


def _to_paid(stack, variant_id: str) -> list[Result]:
    from bench import costs, to_paid
    from bench.metering import Meter

    rt = stack.rt
    merchant_id = rt.sales.products.variants([variant_id])[0].merchant_id
    meter = Meter(rt.dynamodb)
    for client, service in ((rt.dynamodb, "dynamodb"), (rt.sqs, "sqs"), (rt.kms, "kms")):
        meter.watch(client, service)
    meter.watch_stripe(rt.stripe)
    flow = to_paid.PaidFlow(stack, meter)
    flow.add_endpoint(merchant_id)
    try:
        flow.run(_checkout_body(variant_id, 5000))  # warm every part of the way
        runs = [flow.run(_checkout_body(variant_id, 5001 + n)) for n in range(PAID)]
        returning = []
        for _ in range(PAID):  # the first paid buyer again, as a returning customer
            flow.checkout(_checkout_body(variant_id, 5001))
            returning.append(meter.settle())
    finally:
        flow.stop()
    placing = to_paid.per_order([checkout for checkout, _ in runs])
    whole = to_paid.per_order([u for run in runs for u in run])
    rows = []
    for label, usage in (("checkout", placing), ("checkout-to-paid", whole)):
        for service, calls in to_paid.totals(usage, PAID).items():
            unit = "invocations" if service == "lambda" else "requests"
            rows.append(Result(f"{service} {unit} per {label}", calls, unit))
    again = to_paid.totals(to_paid.per_order(returning), PAID)
    rows += [
        Result(f"{service} requests per checkout, returning buyer", again[service], "requests")
        for service in ("dynamodb", "kms")
    ]
    rows.append(Result("dynamodb read units per checkout-to-paid", whole.read_units / PAID, "RRU"))
    rows.append(
        Result("dynamodb write units per checkout-to-paid", whole.write_units / PAID, "WRU")
    )
    by_kind: dict[str, float] = {}
    for slot, units in placing.writes_by_key.items():
        by_kind[_key_kind(slot)] = by_kind.get(_key_kind(slot), 0) + units / PAID
    for kind, units in sorted(by_kind.items()):
        rows.append(Result(f"write units per checkout, item {kind}", units, "WRU"))
    hot = (rt.settings.main_table, tuple(keys_of_variant(variant_id)))
    placing_hot = placing.writes_by_key.get(hot, 0) / PAID
    paid_hot = whole.writes_by_key.get(hot, 0) / PAID
    rows += [
        Result("hot variant item: write units per checkout", placing_hot, "WRU"),
        Result("hot variant item: write units per checkout-to-paid", paid_hot, "WRU"),
        Result(
            "projected ceiling, one hot variant, 1 bucket: checkouts",
            PARTITION_WRITE_UNITS / placing_hot,
            "checkouts/s",
        ),
        Result(
            "projected ceiling, one hot variant, 1 bucket: checkouts-to-paid",
            PARTITION_WRITE_UNITS / paid_hot,
            "checkouts/s",
        ),
    ]
    for region in costs.REGIONS:
        lines = costs.bill(whole, PAID, region)
        rows.append(
            Result(f"AWS cost of 1,000 checkouts-to-paid, {region}", sum(lines.values()), "USD")
        )
        if region == costs.REGIONS[0]:
            rows += [Result(f"  of which {line}", usd, "USD") for line, usd in lines.items()]
    return rows


def keys_of_variant(variant_id: str) -> tuple[str, str]:
    from chalicelib.adapters.dynamodb import keys

    key = keys.variant(variant_id)
    return key["pk"], key["sk"]


def _with_baseline(results: list[Result]) -> list[Result]:
    """Each counted row with its figure before issue 15's changes, where the baseline has it."""
    if not BASELINE.exists():
        return results
    figures = json.loads(BASELINE.read_text())["figures"]
    return [replace(r, before=figures[r.name]) if r.name in figures else r for r in results]


if __name__ == "__main__":
    for row in run():
        print(row)
