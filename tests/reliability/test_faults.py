"""Fault injection: checkouts and payments while DynamoDB, SQS, KMS and Stripe fail, some
faults past the SDKs' retries, some invocations killed after a write.

Each run: buyers check out one unit each with an `Idempotency-Key` and retry on 503 and 504
as a client should, with the same key (a 409 `idempotency_request_in_progress` is waited out
under that key, never side-stepped with a fresh one); they pay at localstripe (every tenth card
in the first half is declined) and Stripe delivers each event until it gets a 200; the ingest
queue is drained as Lambda would, a killed invocation's batch delivered again. Faults: 10 % of
calls fail (retried by botocore and stripe-python as configured in production); outages (3 %
of calls start one) fail 4 to 9 calls in a row to one service, more than the SDKs retry, so
the failure reaches our code; 2 % of DynamoDB and SQS writes are followed by a kill (a Lambda
timeout). The fast run (in `make test`) has more outages and kills, on fewer buyers.

Then, with the faults off, reconciled from the outside: the dead-lettered messages are listed
with their reasons, redriven and drained; every PaymentIntent that succeeded at localstripe for
this shop has a `paid` order (or a `refunded` one with that refund at localstripe), and every
paid order a succeeded PaymentIntent; the stock reads on hand = start - paid units, reserved =
units of orders still awaiting payment; every key answered 201 replays its first answer. The
run asserts that the SDKs' retries absorbed faults, that faults reached our code, and that the
consumer failed records which were then handled. Scarce runs (buyers >> stock) also assert the
stock is sold out exactly: paid + held = stock, none oversold, and some buyers were refused.
"""

import time

import pytest
import stripe

from chalicelib.adapters.dead_letters import redrive
from tests.integration.stripe_helpers import DECLINED_CARD, GOOD_CARD, event, pay, signed

from .faults import FaultPlan, FaultyStripeHttp, break_aws, shorten_backoff
from .harness import Recorded, buyer, clean_sqs, dead_letters, depth, drain, leaks, queue_urls
from .test_money import refunds_at_stripe

RATE = 0.10
OUTAGE_RATE = 0.03  # per call: the next 4 to 9 calls to that service fail
KILL_RATE = 0.02  # per DynamoDB or SQS write: the invocation is killed right after it
ATTEMPTS = 40
IN_PROGRESS_PATIENCE = 60  # seconds a buyer waits out keys in progress, on a loaded machine
IN_PROGRESS_WAIT = 0.25  # a killed run's key is free once its Lambda would have timed out


def _checkout(api, variant_id: str, index: int, figures):
    """One buyer's checkout to its final answer: 201, or 409 `out_of_stock`."""
    response, attempt, waited_until = None, 0, time.monotonic() + IN_PROGRESS_PATIENCE
    while attempt < ATTEMPTS:
        attempt += 1
        response = api.post(
            "/v1/checkouts",
            {"lines": [{"variant_id": variant_id, "quantity": 1}], **buyer(index)},
            headers={"Idempotency-Key": f"buyer-{index}"},
        )
        figures["checkout_retries"] += 1 if attempt > 1 else 0
        code = (response.json or {}).get("error", {}).get("code")
        if response.status_code == 201 or (response.status_code, code) == (409, "out_of_stock"):
            return response
        if (response.status_code, code) == (409, "idempotency_request_in_progress"):
            figures["checkout answers 409 idempotency_request_in_progress (same key retried)"] += 1
            time.sleep(IN_PROGRESS_WAIT)
            if time.monotonic() < waited_until:
                attempt -= 1  # waiting out a key in progress is not a failed attempt
            continue
        assert (response.status_code, code) in ((503, "service_unavailable"), (504, None)), (
            response.status_code,
            response.body,
        )
    raise AssertionError(f"buyer {index} got no final answer: {response.status_code}")


def _deliver(api, evt) -> None:
    for _ in range(ATTEMPTS):
        payload, headers = signed(evt)
        if api.post("/v1/webhooks/stripe", raw=payload, headers=headers).status_code == 200:
            return
    raise AssertionError(f"Stripe could not deliver {evt['id']}")


def _all_orders(api, merchant) -> list[dict]:
    orders, cursor = [], None
    while True:
        page = api.get(
            "/v1/orders?limit=100" + (f"&cursor={cursor}" if cursor else ""), key=merchant.secret
        ).json
        orders += page["data"]
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor:
            return orders


def _intents_at_stripe(client, merchant_id: str) -> list[dict]:
    """Every PaymentIntent localstripe holds for this shop (by the metadata we gave it)."""
    found, after = [], None
    while True:
        params = {"limit": 100, **({"starting_after": after} if after else {})}
        page = client.v1.payment_intents.list(params=params)
        found += [
            i.to_dict()
            for i in page.data
            if i.to_dict().get("metadata", {}).get("merchant_id") == merchant_id
        ]
        if not page.has_more or not page.data:
            return found
        after = page.data[-1].id


def _run(api, rt, merchant, stripe_api_base, monkeypatch, figures, log_lines, buyers: int,
         stock: int, seed: int = 0, outage_rate: float = OUTAGE_RATE,
         kill_rate: float = KILL_RATE):  # fmt: skip
    shorten_backoff(monkeypatch)
    plan = FaultPlan(RATE, seed, outage_rate=outage_rate, kill_rate=kill_rate)
    outages = outage_rate > 0
    for client in (rt.dynamodb, rt.sqs, rt.kms):
        break_aws(client, plan)
    rt.stripe._http_client = FaultyStripeHttp(plan)
    rt.stripe._client = None
    recorded = Recorded(api, figures)
    created = api.post(
        "/v1/products",
        {
            "title": "Under pressure",
            "variants": [
                {"sku": "UP-1", "price": {"amount": 2500, "currency": "EUR"},
                 "inventory": {"on_hand": stock}}
            ],
        },
        key=merchant.secret,
    )  # fmt: skip
    assert created.status_code == 201, created.body
    product_id, variant_id = created.json["id"], created.json["variants"][0]["id"]
    sqs = clean_sqs()
    browser = stripe.StripeClient("sk_test_integration", base_addresses={"api": stripe_api_base})
    answered: dict[int, str] = {}  # buyer -> the order its key was answered with
    refused = 0
    consumer = {"handled": 0, "failed": 0, "killed": 0}

    def drained():
        for name, count in drain(api, rt, sqs).items():
            consumer[name] += count

    plan.enabled = True
    for index in range(buyers):
        response = _checkout(recorded, variant_id, index, figures)
        figures["checkouts"] += 1
        if response.status_code != 201:
            refused += 1
            continue
        answered[index] = response.json["order_id"]
        intent_id = response.json["payment_intent_id"]
        declined = index % 10 == 9 and index < buyers // 2
        pay(stripe_api_base, intent_id, DECLINED_CARD if declined else GOOD_CARD)
        intent = browser.v1.payment_intents.retrieve(intent_id).to_dict()
        figures[f"intent {intent['status']}"] += 1
        kind = "succeeded" if intent["status"] == "succeeded" else "payment_failed"
        _deliver(recorded, event(f"payment_intent.{kind}", intent))
        if index % 10 == 9:
            drained()
    drained()
    plan.enabled = False

    # What failed for good, with its reason; then the operator's redrive, and the rest of it.
    url, dlq = queue_urls(sqs, rt)
    dead = dead_letters(sqs, rt, log_lines)
    figures.dead_letters.extend(dead)
    if dead:
        redrive(sqs, rt.settings.ingest_queue, wait_seconds=0)
        drained()
    assert depth(sqs, url) == 0 and depth(sqs, dlq) == 0

    # Reconcile from the outside: Stripe's payments against our orders, the stock against both.
    orders = {o["id"]: o for o in _all_orders(api, merchant)}
    intents = _intents_at_stripe(browser, merchant.merchant.id)
    succeeded = {i["metadata"]["order_id"]: i for i in intents if i["status"] == "succeeded"}
    lost = []
    for order_id, intent in succeeded.items():
        status = orders.get(order_id, {}).get("status")
        refunded = sum(refunds_at_stripe(stripe_api_base, intent["id"]))
        if status != "paid" and not (status == "refunded" and refunded == intent["amount"]):
            lost.append((order_id, status, refunded))
    unbacked = [o for o, v in orders.items() if v["status"] == "paid" and o not in succeeded]
    paid_units = sum(1 for o in orders.values() if o["status"] == "paid")
    held_units = sum(1 for o in orders.values() if o["status"] == "pending_payment")
    inventory = api.get(f"/v1/products/{product_id}", key=merchant.secret).json["variants"][0][
        "inventory"
    ]
    replayed = 0
    for index, order_id in answered.items():
        again = api.post(
            "/v1/checkouts",
            {"lines": [{"variant_id": variant_id, "quantity": 1}], **buyer(index)},
            headers={"Idempotency-Key": f"buyer-{index}"},
        )
        replayed += again.status_code == 201 and again.json["order_id"] == order_id

    figures["faults_injected"] += plan.total
    for kind, count in plan.injected.items():
        figures[f"faults {kind}"] += count
    figures["faults_absorbed"] += sum(plan.absorbed.values())
    figures["faults_escaped"] += sum(plan.escaped.values())
    for service, count in plan.escaped.items():
        figures[f"faults past the retries: {service}"] += count
    for kind, count in plan.killed.items():
        figures[f"invocations killed after {kind}"] += count
    figures["kills"] += sum(plan.killed.values())
    figures["outages"] += sum(plan.outages.values())
    figures["consumer_failed"] += consumer["failed"] + consumer["killed"]
    figures["orders_paid"] += len(succeeded)
    figures["reconciled_intents"] += len(intents)
    figures["orders left awaiting payment (abandoned after a 5xx; expire)"] += held_units
    figures["orders_lost"] += len(lost)
    figures["orders_unbacked"] += len(unbacked)
    figures["dead_lettered"] += len(dead)
    figures["oversold"] += max(0, paid_units + held_units - stock)
    figures["replayed"] += replayed
    figures["replay_checked"] += len(answered)
    if stock < buyers:
        figures["scarce_buyers"] += buyers
        figures["scarce_stock"] += stock
        figures["scarce_sold"] += paid_units + held_units

    assert lost == [], f"paid at Stripe but not paid here: {lost} (dead-lettered: {dead})"
    assert unbacked == [], f"paid here without a payment at Stripe: {unbacked}"
    assert inventory == {
        "on_hand": stock - paid_units,
        "reserved": held_units,
        "available": stock - paid_units - held_units,
    }, (inventory, paid_units, held_units)
    assert replayed == len(answered), "a key answered 201 did not replay its first answer"
    assert figures["responses_5xx_leaking"] == 0
    assert plan.absorbed["botocore"] > 0, plan.absorbed
    stripe_faults = sum(n for kind, n in plan.injected.items() if kind.startswith("stripe:"))
    if stripe_faults >= 10:  # a scarce run pays few: its Stripe faults may all be outages
        assert plan.absorbed["stripe"] > 0, plan.absorbed
    if outages:
        assert sum(plan.escaped.values()) > 0, "no fault reached our own recovery code"
        assert consumer["failed"] + consumer["killed"] > 0, consumer
    if stock < buyers:
        assert paid_units + held_units == stock, (paid_units, held_units, stock)
        assert refused > 0
    return paid_units


def test_checkouts_and_payments_survive_faults_past_the_retries_with_scarce_stock(
    api, rt, merchant, stripe_api_base, monkeypatch, figures, log_lines
):
    paid = _run(api, rt, merchant, stripe_api_base, monkeypatch, figures, log_lines,
                buyers=24, stock=8, seed=7, outage_rate=0.04, kill_rate=0.03)  # fmt: skip
    assert paid >= 1


# moto copies every table on each transaction, so one long run slows quadratically: the
# checkouts run as rounds on fresh tables, each with its own fault seed. Ample stock: the
# volume of payments and consumer work; scarce: 60 buyers for 10 units.
ROUNDS, ROUND_BUYERS = 4, 40
SCARCE_ROUNDS, SCARCE_BUYERS, SCARCE_STOCK = 3, 60, 10


@pytest.mark.slow_reliability
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_hundreds_of_checkouts_and_payments_survive_faults_past_the_retries(
    api, rt, merchant, stripe_api_base, monkeypatch, figures, log_lines, round_
):
    paid = _run(api, rt, merchant, stripe_api_base, monkeypatch, figures, log_lines,
                ROUND_BUYERS, ROUND_BUYERS + 5, seed=1000 + round_)  # fmt: skip
    assert paid >= ROUND_BUYERS * 0.6


@pytest.mark.slow_reliability
@pytest.mark.parametrize("round_", range(SCARCE_ROUNDS))
def test_scarce_stock_under_faults_sells_exactly_the_stock(
    api, rt, merchant, stripe_api_base, monkeypatch, figures, log_lines, round_
):
    _run(api, rt, merchant, stripe_api_base, monkeypatch, figures, log_lines,
         SCARCE_BUYERS, SCARCE_STOCK, seed=2000 + round_)  # fmt: skip


def test_a_checkout_needs_no_queue(api, rt, merchant, product, monkeypatch, figures):
    """With SQS down (every call fails), a checkout still succeeds: its `order.created` is
    in the outbox, written with the order, and no queue is on the way."""
    shorten_backoff(monkeypatch)
    plan = FaultPlan(1.0)
    break_aws(rt.sqs, plan)
    body = {"lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}], **buyer(0)}
    plan.enabled = True
    response = Recorded(api, figures).post("/v1/checkouts", body)
    plan.enabled = False
    assert response.status_code == 201, response.body
    assert plan.total == 0  # nothing asked the queue
    outbox = rt.table.get({"pk": f"OUTBOX#{response.json['order_id']}", "sk": "OUTBOX"})
    assert outbox["event"]["type"] == "order.created"


@pytest.mark.parametrize("down", ["dynamodb", "kms", "stripe"])
def test_a_dependency_that_is_down_gets_a_clean_error_and_holds_no_stock(
    api, rt, merchant, product, monkeypatch, figures, down
):
    """Every call to one dependency fails, retries included: the checkout answers the
    contract's 503 `service_unavailable` with `Retry-After`, without a trace, and, once the
    dependency is back, the stock shows nothing held for it."""
    shorten_backoff(monkeypatch)
    plan = FaultPlan(1.0)
    if down == "stripe":
        rt.stripe._http_client = FaultyStripeHttp(plan)
        rt.stripe._client = None
    else:
        break_aws(getattr(rt, down), plan)
    recorded = Recorded(api, figures)
    body = {"lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}], **buyer(0)}
    plan.enabled = True
    response = recorded.post("/v1/checkouts", body)
    plan.enabled = False
    figures["faults_injected"] += plan.total
    assert response.status_code == 503, response.body
    assert response.json["error"]["code"] == "service_unavailable"
    assert response.headers["Retry-After"] == "1"  # the same request may be sent again then
    assert not leaks(response.body)
    inventory = api.get(f"/v1/products/{product['id']}", key=merchant.secret).json["variants"][0]
    assert inventory["inventory"] == {"on_hand": 5, "reserved": 0, "available": 5}
