"""Stripe events matched to their order before anything changes: events of other sales on the
same Stripe account are acknowledged at once; events of ours not readable yet wait a bounded
number of deliveries and never reach the dead-letter queue; a PaymentIntent, amount or
currency other than the order's leaves it alone; an inquiry is not a chargeback. Stripe's
own published samples, routed to an order of ours (only their ids changed), have the effect
Stripe documents."""

import copy
import json
import time

import pytest

from chalicelib.resources import QUEUES
from devstack import corpus
from tests.fixtures.app import product_body

from .queue_helpers import run_ingest_batch
from .sales_helpers import checkout_body, deliver, drain, inventory, order_of, stripe_intent
from .stripe_helpers import event, pay, signed


def _product(api, merchant, amount, currency):
    body = product_body()
    for variant in body["variants"]:
        variant["price"] = {"amount": amount, "currency": currency}
    response = api.post("/v1/products", body, key=merchant.secret)
    assert response.status_code == 201, response.body
    return response.json


def _place(api, merchant, amount=1000, currency="USD"):
    product = _product(api, merchant, amount, currency)
    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)))
    assert placed.status_code == 201, placed.body
    return product, placed.json


def _pay(api, rt, stripe_api_base, placed):
    pay(stripe_api_base, placed["payment_intent_id"])
    deliver(
        api,
        event(
            "payment_intent.succeeded", stripe_intent(stripe_api_base, placed["payment_intent_id"])
        ),
    )
    drain(api, rt)


def _routed(name: str, placed: dict, **changes) -> dict:
    """Stripe's published sample, its routing ids pointed at our order."""
    evt = copy.deepcopy(corpus.sample(f"stripe/{name}.json"))
    evt["id"] = f"evt_{name.replace('.', '_')}_{placed['order_id']}"
    obj = evt["data"]["object"]
    if obj["object"] == "payment_intent":
        obj["id"] = placed["payment_intent_id"]
        obj["metadata"] = {"order_id": placed["order_id"]}
    else:
        obj["payment_intent"] = placed["payment_intent_id"]
    obj.update(changes)
    return evt


def _ingest_with_attempt(api, rt, attempt: int) -> list:
    """The queued messages through the consumer as their `attempt`-th delivery."""
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    bodies = [
        m["Body"]
        for m in rt.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0, MaxNumberOfMessages=10)[
            "Messages"
        ]
    ]
    sqs_event = api.client.events.generate_sqs_event(
        queue_name=rt.settings.ingest_queue, message_bodies=bodies
    )
    for n, record in enumerate(sqs_event["Records"]):
        record["messageId"] = f"m{n}"
        record["attributes"]["ApproximateReceiveCount"] = str(attempt)
    try:
        return api.client.lambda_.invoke("on_ingest", sqs_event).payload["batchItemFailures"]
    except Exception:  # every record failed: Powertools fails the invocation
        return [{"itemIdentifier": f"m{n}"} for n in range(len(bodies))]


# Stripe's published samples, routed to an order of ours


def test_a_published_dispute_and_its_loss_move_the_order_to_disputed_then_refunded(
    api, rt, merchant, stripe_api_base
):
    _, placed = _place(api, merchant, amount=1500)  # the lost dispute's sample is for 15.00
    _pay(api, rt, stripe_api_base, placed)
    deliver(api, _routed("charge.dispute.created", placed))  # 10.00 of it disputed
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "disputed"
    assert order["dispute"]["kind"] == "chargeback" and order["dispute"]["open"] is True
    deliver(api, _routed("charge.dispute.closed__lost", placed))
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "refunded"
    assert order["amounts"]["refunded"] == 1500
    assert (order["dispute"]["status"], order["dispute"]["open"]) == ("lost", False)


def test_a_published_inquiry_is_kept_on_the_order_without_moving_its_money(
    api, rt, merchant, stripe_api_base
):
    _, placed = _place(api, merchant, amount=1000)
    _pay(api, rt, stripe_api_base, placed)
    deliver(api, _routed("charge.dispute.created__inquiry", placed))
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "paid"
    assert order["dispute"]["kind"] == "inquiry"
    assert (order["dispute"]["status"], order["dispute"]["open"]) == (
        "warning_needs_response",
        True,
    )
    closed = _routed("charge.dispute.created__inquiry", placed, status="warning_closed")
    closed["type"], closed["id"] = "charge.dispute.closed", closed["id"] + "_closed"
    deliver(api, closed)
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "paid"
    assert (order["dispute"]["status"], order["dispute"]["open"]) == ("warning_closed", False)


def test_a_published_inquiry_that_escalates_becomes_a_chargeback(
    api, rt, merchant, stripe_api_base
):
    _, placed = _place(api, merchant, amount=1000)
    _pay(api, rt, stripe_api_base, placed)
    deliver(api, _routed("charge.dispute.created__inquiry", placed))
    escalated = _routed("charge.dispute.created__inquiry", placed, status="needs_response")
    escalated["type"], escalated["id"] = "charge.dispute.updated", escalated["id"] + "_up"
    deliver(api, escalated)
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "disputed"
    assert (order["dispute"]["kind"], order["dispute"]["status"]) == (
        "chargeback",
        "needs_response",
    )
    deliver(api, _routed("charge.dispute.created__inquiry", placed) | {"id": "evt_late_inquiry"})
    drain(api, rt)  # the inquiry's creation, delivered late, changes nothing
    assert order_of(api, merchant, placed["order_id"])["dispute"]["status"] == "needs_response"


def test_a_published_failed_payment_releases_the_stock(api, rt, merchant):
    product, placed = _place(api, merchant, amount=1099)
    deliver(api, _routed("payment_intent.payment_failed", placed))
    drain(api, rt)
    assert order_of(api, merchant, placed["order_id"])["status"] == "payment_failed"
    assert inventory(api, merchant, product)["reserved"] == 0


def test_a_published_success_that_received_nothing_does_not_mark_the_order_paid(api, rt, merchant):
    """Stripe's fixture says `succeeded` with `amount_received` 0: no money came in."""
    product, placed = _place(api, merchant, amount=1000)
    deliver(api, _routed("payment_intent.succeeded", placed))
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "pending_payment"
    assert any("amount received not this order's" in note for note in order["notes"])
    assert inventory(api, merchant, product)["reserved"] == 1


def test_a_published_charge_that_was_not_refunded_changes_nothing(
    api, rt, merchant, stripe_api_base
):
    _, placed = _place(api, merchant, amount=100)
    _pay(api, rt, stripe_api_base, placed)
    deliver(api, _routed("charge.refunded__fixture_charge_not_refunded", placed))
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert (order["status"], order["amounts"]["refunded"]) == ("paid", 0)


# Whose event is it?


def test_checkout_marks_its_payment_intent_with_this_stack(api, rt, merchant, stripe_api_base):
    _, placed = _place(api, merchant)
    metadata = stripe_intent(stripe_api_base, placed["payment_intent_id"])["metadata"]
    assert metadata["shoppable_stack"] == rt.settings.stack_name == "shoppable-dev-us-east-1"
    assert metadata["order_id"] == placed["order_id"]


def test_another_stacks_payment_is_acknowledged_at_once(api, rt, merchant, log_lines):
    intent = {
        "id": "pi_elsewhere",
        "object": "payment_intent",
        "amount": 1000,
        "currency": "usd",
        "metadata": {"order_id": "ord_elsewhere1", "shoppable_stack": "shoppable-prod-eu"},
    }
    deliver(api, event("payment_intent.succeeded", intent, "evt_elsewhere"))
    assert _ingest_with_attempt(api, rt, attempt=1) == []
    ignored = [line for line in log_lines() if line.get("event_id") == "evt_elsewhere"]
    assert [line["reason"] for line in ignored] == ["not_ours"]


def test_a_payment_of_ours_not_visible_yet_waits_a_bounded_number_of_deliveries(api, rt, log_lines):
    intent = {
        "id": "pi_later",
        "object": "payment_intent",
        "amount": 1000,
        "currency": "usd",
        "metadata": {"order_id": "ord_notwrittenyet", "shoppable_stack": rt.settings.stack_name},
    }
    deliver(api, event("payment_intent.succeeded", intent, "evt_later"))
    limit = rt.settings.event_wait_attempts
    for attempt in range(1, limit):
        assert len(_ingest_with_attempt(api, rt, attempt)) == 1, attempt  # delivered again
    assert _ingest_with_attempt(api, rt, limit) == []  # then acknowledged
    reasons = [line.get("reason") for line in log_lines() if line.get("event_id") == "evt_later"]
    assert reasons[-1] == "not_visible"
    assert "Traceback" not in json.dumps(log_lines())


def test_waiting_never_ends_in_the_dead_letter_queue(api, rt):
    intent = {
        "id": "pi_never",
        "object": "payment_intent",
        "amount": 1000,
        "currency": "usd",
        "metadata": {"order_id": "ord_neverwritten"},
    }
    deliver(api, event("payment_intent.succeeded", intent, "evt_never"))
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    dlq = rt.sqs.get_queue_url(QueueName=f"{rt.settings.ingest_queue}-dlq")["QueueUrl"]
    receives = next(q for q in QUEUES if q.setting == "ingest_queue").max_receive_count
    for _ in range(receives + 1):  # what Lambda's event source mapping does
        got = rt.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        if got:
            run_ingest_batch(api, rt, rt.sqs, url, got)
    assert rt.sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    assert rt.sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"amount": 1}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"id": "pi_someoneelse"}, "payment intent"),
    ],
)
def test_a_payment_that_does_not_match_its_order_changes_nothing(
    api, rt, merchant, change, problem
):
    product, placed = _place(api, merchant, amount=1000)
    intent = {
        "id": placed["payment_intent_id"],
        "object": "payment_intent",
        "amount": 1000,
        "amount_received": 1000,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"order_id": placed["order_id"]},
    } | change
    deliver(api, event("payment_intent.succeeded", intent, "evt_mismatch"))
    deliver(api, event("payment_intent.succeeded", intent, "evt_mismatch_again"))
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "pending_payment"
    assert inventory(api, merchant, product)["reserved"] == 1
    notes = [n for n in order["notes"] if n.startswith("Stripe event evt_mismatch ")]
    assert notes == [f"Stripe event evt_mismatch ignored: {problem} not this order's"]


def test_a_refund_larger_than_the_order_is_not_recorded(api, rt, merchant, stripe_api_base):
    _, placed = _place(api, merchant, amount=1000)
    _pay(api, rt, stripe_api_base, placed)
    charge = {
        "id": "ch_x",
        "object": "charge",
        "payment_intent": placed["payment_intent_id"],
        "amount": 1000,
        "amount_refunded": 5000,
        "currency": "usd",
    }
    deliver(api, event("charge.refunded", charge, "evt_too_much"))
    drain(api, rt)
    order = order_of(api, merchant, placed["order_id"])
    assert (order["status"], order["amounts"]["refunded"]) == ("paid", 0)


# The webhook itself


def test_a_signature_from_the_future_is_refused(api, rt):
    evt = event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"}, "evt_f")
    payload, headers = signed(evt, at=int(time.time()) + 400)
    response = api.post("/v1/webhooks/stripe", raw=payload, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_signature"
    payload, headers = signed(evt, at=int(time.time()) + 100)  # clocks differ a little
    assert api.post("/v1/webhooks/stripe", raw=payload, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        json.dumps(
            {
                "id": "evt_deep",
                "type": "payment_intent.succeeded",
                "data": {"object": json.loads("[" * 200 + "]" * 200)},
            }
        ).encode(),
        b'["evt_1", "payment_intent.succeeded"]',
        b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": "pi_1"}',
        b'{"id": "evt_1", "type": "payment_intent.succeeded", "data": {"object": []}}',
        b'{"id": 7, "type": "payment_intent.succeeded"}',
        b"\xff\xfe not utf-8",
        b"not json",
    ],
    ids=[
        "nested",
        "nested-object",
        "list",
        "data-string",
        "object-list",
        "id-number",
        "not-utf8",
        "not-json",
    ],
)
def test_a_signed_body_that_is_not_an_event_is_400_and_nothing_is_queued(api, rt, body):
    at = int(time.time())
    import hashlib
    import hmac

    from tests.fixtures.app import WEBHOOK_SECRET

    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{at}.".encode() + body, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={at},v1={digest.hexdigest()}"}
    response = api.post("/v1/webhooks/stripe", raw=body, headers=headers)
    assert response.status_code in (400, 401), response.body  # never 500
    assert response.json["error"]["code"] in ("invalid_event", "invalid_signature")
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    assert "Messages" not in rt.sqs.receive_message(QueueUrl=url)
