"""Fault injection: checkouts and payments while DynamoDB, SQS, KMS and Stripe fail.

In 10 rounds of 50 buyers (500 checkouts; the fast subset: 20), at a 10 % fault rate on
every call of ours (botocore and stripe-python retry as configured in production), buyers
check out with an `Idempotency-Key` and retry on 5xx as a client should, pay at localstripe
(every tenth card is declined), and Stripe delivers the event until it gets a 200. Then:
every order paid at Stripe is `paid`, the stock equals the orders (on hand = start - paid
units; reserved = units of orders awaiting payment), the ingest queue is empty (every message
handled or dead-lettered), and no 5xx body carries a stack trace.
"""

import pytest

from tests.integration.stripe_helpers import DECLINED_CARD, GOOD_CARD, event, pay, signed

from .faults import FaultPlan, FaultyStripeHttp, break_aws, shorten_backoff
from .harness import Recorded, buyer, clean_sqs, depth, drain, leaks, queue_urls

RATE = 0.10
ATTEMPTS = 12


def _checkout(api, variant_id: str, index: int, figures):
    key_round = 0
    response = None
    for attempt in range(ATTEMPTS):
        response = api.post(
            "/v1/checkouts",
            {"lines": [{"variant_id": variant_id, "quantity": 1}], **buyer(index)},
            headers={"Idempotency-Key": f"buyer-{index}-{key_round}"},
        )
        if response.status_code == 201:
            return response
        if response.status_code == 409 and response.json["error"]["code"] == "out_of_stock":
            return response
        if response.status_code == 409:  # still "in progress" under a key whose run died
            figures[f"checkout answers 409 {response.json['error']['code']}"] += 1
            key_round += 1
        assert response.status_code >= 500 or response.status_code == 409, response.body
        figures["checkout_retries"] += 1 if attempt else 0
    return response


def _deliver(api, evt) -> None:
    for _ in range(ATTEMPTS):
        payload, headers = signed(evt)
        if api.post("/v1/webhooks/stripe", raw=payload, headers=headers).status_code == 200:
            return
    raise AssertionError(f"Stripe could not deliver {evt['id']}")


def _run(api, rt, merchant, stripe_api_base, monkeypatch, figures, buyers: int, seed: int = 0):
    import stripe

    shorten_backoff(monkeypatch)
    plan = FaultPlan(RATE, seed)
    for client in (rt.dynamodb, rt.sqs, rt.kms):
        break_aws(client, plan)
    rt.stripe._http_client = FaultyStripeHttp(plan)
    rt.stripe._client = None
    recorded = Recorded(api, figures)
    stock = buyers + 5
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
    paid_at_stripe: set[str] = set()

    plan.enabled = True
    for index in range(buyers):
        response = _checkout(recorded, variant_id, index, figures)
        figures["checkouts"] += 1
        if response.status_code != 201:
            error = response.json["error"]["code"] if response.json else ""
            figures[f"checkouts given up: {response.status_code} {error}"] += 1
            continue
        intent_id = response.json["payment_intent_id"]
        card = DECLINED_CARD if index % 10 == 9 else GOOD_CARD
        pay(stripe_api_base, intent_id, card)
        intent = browser.v1.payment_intents.retrieve(intent_id).to_dict()
        figures[f"intent {intent['status']}"] += 1
        if intent["status"] == "succeeded":
            paid_at_stripe.add(response.json["order_id"])
            _deliver(recorded, event("payment_intent.succeeded", intent))
        else:
            _deliver(recorded, event("payment_intent.payment_failed", intent))
        if index % 10 == 9:
            drain(api, rt, sqs)
    drain(api, rt, sqs)
    plan.enabled = False

    url, dlq = queue_urls(sqs, rt)
    assert depth(sqs, url) == 0
    dead = depth(sqs, dlq)
    orders, cursor = [], None
    while True:
        page = api.get(
            "/v1/orders?limit=100" + (f"&cursor={cursor}" if cursor else ""), key=merchant.secret
        ).json
        orders += page["data"]
        cursor = page.get("next_cursor")
        if not page.get("has_more") or not cursor:
            break
    status = {o["id"]: o["status"] for o in orders}
    lost = [oid for oid in paid_at_stripe if status.get(oid) != "paid"]
    paid_units = sum(1 for s in status.values() if s == "paid")
    pending_units = sum(1 for s in status.values() if s == "pending_payment")
    inventory = api.get(f"/v1/products/{product_id}", key=merchant.secret).json["variants"][0][
        "inventory"
    ]

    figures["faults_injected"] += plan.total
    for kind, count in plan.injected.items():
        figures[f"faults {kind}"] += count
    figures["orders_paid"] += len(paid_at_stripe)
    figures["orders left awaiting payment (abandoned after a 5xx; expire)"] += pending_units
    figures["orders_lost"] += len(lost)
    figures["dead_lettered"] += dead
    figures["oversold"] += max(0, -inventory["available"])

    assert plan.total > 0
    assert lost == [], f"paid at Stripe but not paid here: {lost} (dead-lettered: {dead})"
    assert inventory == {
        "on_hand": stock - paid_units,
        "reserved": pending_units,
        "available": stock - paid_units - pending_units,
    }, (inventory, paid_units, pending_units)
    assert figures["responses_5xx_leaking"] == 0
    return paid_at_stripe


def test_checkouts_and_payments_survive_ten_percent_faults(
    api, rt, merchant, stripe_api_base, monkeypatch, figures
):
    paid = _run(api, rt, merchant, stripe_api_base, monkeypatch, figures, buyers=20)
    assert len(paid) >= 10


# moto copies every table on each transaction, so one long run slows quadratically: the 500
# checkouts run as 10 rounds of 50, each on fresh tables and its own fault seed.
ROUNDS, ROUND_BUYERS = 10, 50


@pytest.mark.slow_reliability
@pytest.mark.parametrize("round_", range(ROUNDS))
def test_five_hundred_checkouts_and_payments_survive_ten_percent_faults(
    api, rt, merchant, stripe_api_base, monkeypatch, figures, round_
):
    paid = _run(
        api, rt, merchant, stripe_api_base, monkeypatch, figures, ROUND_BUYERS, seed=1000 + round_
    )
    assert len(paid) >= ROUND_BUYERS * 0.8


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
    contract's 503 `service_unavailable` (worth retrying), without a trace, and, once the
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
    assert not leaks(response.body)
    inventory = api.get(f"/v1/products/{product['id']}", key=merchant.secret).json["variants"][0]
    assert inventory["inventory"] == {"on_hand": 5, "reserved": 0, "available": 5}
