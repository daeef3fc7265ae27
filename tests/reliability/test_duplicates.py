"""Duplicates and disorder: every Stripe event type we act on, and every platform webhook
sample, delivered three times and shuffled, ends in the state of one delivery in order.

Stripe: each scenario is a sequence of events on its own order. "Once" delivers them in order,
draining the queue after each. "Thrice" delivers every webhook three times (the route
de-duplicates on the event id), then feeds each queued message three times (SQS is at least
once), all scenarios' messages shuffled together; a message the consumer fails goes to the back,
as SQS would deliver it again. The state compared is each order's status and amounts and the
product's stock. Platforms: the samples in events/ (comments, mentions, messages, a TikTok
order), each delivery sent three times, shuffled; compared on the inbox and the orders.
"""

import json
import random

import pytest

from devstack.sample_events import load
from devstack.sample_events import signed as sample_signed
from tests.fixtures.app import product_body
from tests.integration.platform_helpers import SAMPLE_SECRETS as SECRETS
from tests.integration.platform_helpers import SAMPLES, seed_sample_shop
from tests.integration.stripe_helpers import event, signed

from .harness import clean_sqs, drain, queue_urls

SEEDS = (1, 2, 3)


def _intent(placed, status="succeeded"):
    return {
        "id": placed["payment_intent_id"],
        "object": "payment_intent",
        "status": status,
        "amount": placed["amounts"]["total"],
        "currency": placed["amounts"]["currency"].lower(),
        "metadata": {"order_id": placed["order_id"]},
    }


def _charge(placed, refunded):
    return {"id": "ch_" + placed["order_id"][4:], "object": "charge",
            "payment_intent": placed["payment_intent_id"], "amount_refunded": refunded,
            "amount": placed["amounts"]["total"], "currency": "eur"}  # fmt: skip


def _dispute(placed, status):
    return {"id": "dp_" + placed["order_id"][4:], "object": "dispute",
            "payment_intent": placed["payment_intent_id"], "status": status,
            "amount": placed["amounts"]["total"], "currency": "eur"}  # fmt: skip


# name -> the events, in Stripe's order, for one placed order
SCENARIOS = {
    "succeeded": lambda p: [("payment_intent.succeeded", _intent(p))],
    "payment_failed": lambda p: [("payment_intent.payment_failed", _intent(p, "failed"))],
    "canceled": lambda p: [("payment_intent.canceled", _intent(p, "canceled"))],
    "failed_then_paid": lambda p: [
        ("payment_intent.payment_failed", _intent(p, "requires_payment_method")),
        ("payment_intent.succeeded", _intent(p)),
    ],
    "paid_then_refunded": lambda p: [
        ("payment_intent.succeeded", _intent(p)),
        ("charge.refunded", _charge(p, p["amounts"]["total"])),
    ],
    "paid_then_dispute_won": lambda p: [
        ("payment_intent.succeeded", _intent(p)),
        ("charge.dispute.created", _dispute(p, "needs_response")),
        ("charge.dispute.closed", _dispute(p, "won")),
    ],
    "paid_then_dispute_lost": lambda p: [
        ("payment_intent.succeeded", _intent(p)),
        ("charge.dispute.created", _dispute(p, "needs_response")),
        ("charge.dispute.closed", _dispute(p, "lost")),
    ],
}


def _place(api, merchant):
    product = api.post("/v1/products", product_body(), key=merchant.secret).json
    placed = api.post(
        "/v1/checkouts",
        {
            "lines": [{"variant_id": product["variants"][0]["id"], "quantity": 2}],
            "customer": {"email": "dup@example.com", "name": "Dup Licate"},
            "shipping_address": {"line1": "1 Main St", "city": "Springfield",
                                 "postal_code": "12345", "country": "US"},
        },
    )  # fmt: skip
    assert placed.status_code == 201, placed.body
    return product, placed.json


def _state(api, merchant, product, placed):
    order = api.get(f"/v1/orders/{placed['order_id']}", key=merchant.secret).json
    stock = api.get(f"/v1/products/{product['id']}", key=merchant.secret).json
    return order["status"], order["amounts"], stock["variants"][0]["inventory"]


def _deliver(api, evt):
    payload, headers = signed(evt)
    response = api.post("/v1/webhooks/stripe", raw=payload, headers=headers)
    assert response.status_code == 200, response.body


def _take_all(sqs, url) -> list[str]:
    bodies = []
    while received := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in received:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _feed_shuffled(api, rt, bodies: list[str], seed: int) -> None:
    """Each body to the consumer alone, in a shuffled order; failures go to the back."""
    pending = list(bodies)
    random.Random(seed).shuffle(pending)
    rounds = 0
    while pending:
        rounds += 1
        assert rounds < 50 * len(bodies), "messages keep failing"
        body = pending.pop(0)
        sqs_event = api.client.events.generate_sqs_event(
            queue_name=rt.settings.ingest_queue, message_bodies=[body]
        )
        try:
            failed = api.client.lambda_.invoke("on_ingest", sqs_event).payload["batchItemFailures"]
        except Exception:
            failed = [True]
        if failed:
            pending.append(body)


@pytest.mark.parametrize("seed", SEEDS)
def test_stripe_events_thrice_and_shuffled_end_as_once_in_order(api, rt, merchant, seed, figures):
    sqs = clean_sqs()
    url, _ = queue_urls(sqs, rt)
    expected, runs = {}, {}
    for name, events_of in SCENARIOS.items():
        product, placed = _place(api, merchant)
        for kind, obj in events_of(placed):
            _deliver(api, event(kind, obj, f"evt_once_{placed['order_id']}_{kind}"))
            drain(api, rt, sqs)
        expected[name] = _state(api, merchant, product, placed)
        runs[name] = _place(api, merchant)

    for name, (_, placed) in runs.items():
        for kind, obj in SCENARIOS[name](placed):
            evt = event(kind, obj, f"evt_{placed['order_id']}_{kind}")
            for _ in range(3):
                _deliver(api, evt)
                figures["duplicate_deliveries"] += 1
    bodies = _take_all(sqs, url)
    assert len(bodies) == sum(len(SCENARIOS[n](p)) for n, (_, p) in runs.items())
    _feed_shuffled(api, rt, bodies * 3, seed)
    figures["duplicate_deliveries"] += 2 * len(bodies)

    got = {name: _state(api, merchant, *runs[name]) for name in SCENARIOS}
    differing = {n: (expected[n], got[n]) for n in SCENARIOS if expected[n] != got[n]}
    assert differing == {}, json.dumps(differing, indent=1)


def _platform_state(api, merchant):
    inbox = api.get("/v1/inbox", key=merchant.secret).json["data"]
    orders = api.get("/v1/orders", key=merchant.secret).json["data"]
    return (
        sorted(
            json.dumps({k: i.get(k) for k in ("platform", "kind", "text", "reply")}) for i in inbox
        ),
        sorted((o["source"], o["status"], o["amounts"]["total"]) for o in orders),
    )


PLATFORM_SAMPLES = [p for p in SAMPLES if "stripe" not in p.name]


def _fresh_stack(standin):
    """Empty tables and an empty platform stand-in, for the second half of one test."""
    from moto.core.base_backend import BackendDict

    from chalicelib import runtime as runtime_module
    from chalicelib.resources import provision

    BackendDict.reset()
    standin.reset()
    rt = runtime_module.reset()
    provision(rt)
    return rt


def _deliver_samples(api, rt, deliveries, drain_each: bool) -> None:
    for route, raw in deliveries:
        response = api.post(route, raw=raw, headers=sample_signed(route, raw, SECRETS))
        assert response.status_code == 200, response.body
        if drain_each:
            drain(api, rt)
    drain(api, rt)


def test_platform_webhooks_thrice_and_shuffled_end_as_once(platforms, api, rt, figures):
    """Both halves in one test, each on its own empty stack: run alone, it still compares."""
    once = [load(path) for path in PLATFORM_SAMPLES]
    merchant = seed_sample_shop(api, rt, platforms)
    _deliver_samples(api, rt, once, drain_each=True)
    expected = _platform_state(api, merchant)
    assert expected[0] and expected[1], expected  # the samples make inbox items and orders

    rt = _fresh_stack(platforms)
    merchant = seed_sample_shop(api, rt, platforms)
    thrice = once * 3
    random.Random(7).shuffle(thrice)
    _deliver_samples(api, rt, thrice, drain_each=False)
    figures["duplicate_deliveries"] += len(thrice)
    assert _platform_state(api, merchant) == expected
