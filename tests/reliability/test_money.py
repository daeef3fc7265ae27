"""Money checked at Stripe: every path that promises money back is looked up at the Stripe
stand-in (localstripe, through the stripe SDK), not in our own order record.

- Two refunds of one order clicked at once (both read the order before either writes) never
  refund more than was paid: the DynamoDB condition `refundable >= :a` on the order lets one
  through; the other is a 409 and never reaches Stripe.
- A merchant's partial and full refunds, a paid order cancelled, a payment that arrives after
  its reservation expired (no stock left) or after the merchant cancelled: each has exactly
  the refunds at Stripe that the order shows, for the right amounts.
- A late payment that can take its stock again keeps the money: no refund at Stripe.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import stripe

from tests.integration.sales_helpers import (
    checkout_body,
    deliver,
    drain,
    expire,
    order_of,
    stripe_intent,
)
from tests.integration.stripe_helpers import event, pay


def refunds_at_stripe(stripe_api_base: str, intent_id: str) -> list[int]:
    """The amounts of the refunds Stripe holds for this payment, oldest first."""
    client = stripe.StripeClient("sk_test_integration", base_addresses={"api": stripe_api_base})
    listed = client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
    return sorted((r.amount for r in listed.data if r.status == "succeeded"), key=int)


def _placed(api, product, quantity=2):
    response = api.post("/v1/checkouts", checkout_body(product, quantities=(quantity,)))
    assert response.status_code == 201, response.body
    return response.json


def _paid(api, rt, product, stripe_api_base, quantity=2):
    placed = _placed(api, product, quantity)
    pay(stripe_api_base, placed["payment_intent_id"])
    intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
    assert intent["status"] == "succeeded"
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    return placed


class _BothReadFirst:
    """Holds the first refund at its conditional write until the second has read the same
    order, then lets them write one after the other: the race of two clicks at once, made
    certain (moto's own writes are not atomic against each other, DynamoDB's are)."""

    def __init__(self, store, monkeypatch):
        self._write = store.add_refund
        self._arrived = threading.Barrier(2, timeout=30)
        self._turn = threading.Lock()
        self._racers = 2
        monkeypatch.setattr(store, "add_refund", self)

    def __call__(self, order, amount, change):
        with self._turn:
            racing, self._racers = self._racers > 0, self._racers - 1
        if racing:
            self._arrived.wait()  # both hold the same read of the order
        with self._turn:
            return self._write(order, amount, change)


def test_two_refunds_at_once_never_refund_more_than_was_paid(
    api, rt, merchant, product, stripe_api_base, monkeypatch, figures
):
    placed = _paid(api, rt, product, stripe_api_base)
    total, intent_id = placed["amounts"]["total"], placed["payment_intent_id"]
    oid = placed["order_id"]
    each = total * 6 // 10  # either alone is allowed; both together are more than was paid
    _BothReadFirst(rt.order_store, monkeypatch)

    def click(index):
        return api.post(
            f"/v1/orders/{oid}/refund",
            {"amount": each},
            key=merchant.secret,
            headers={"Idempotency-Key": f"click-{index}"},
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(click, range(2)))
    figures["money_concurrent_refunds"] += 2
    statuses = sorted(a.status_code for a in answers)
    at_stripe = refunds_at_stripe(stripe_api_base, intent_id)
    figures["money_over_refunded"] += max(0, sum(at_stripe) - total)
    assert sum(at_stripe) <= total, at_stripe
    assert at_stripe == [each]
    assert statuses == [200, 409], [a.body for a in answers]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json["error"]["code"] == "concurrent_update", loser.body
    order = order_of(api, merchant, oid)
    assert order["status"] == "partially_refunded"
    assert order["amounts"]["refunded"] == each
    # the rest can still be refunded, and only the rest
    rest = api.post(f"/v1/orders/{oid}/refund", {}, key=merchant.secret)
    assert rest.status_code == 200, rest.body
    assert refunds_at_stripe(stripe_api_base, intent_id) == sorted([each, total - each])
    assert order_of(api, merchant, oid)["amounts"]["refunded"] == total


def test_merchant_refunds_in_part_then_in_full_are_at_stripe(
    api, rt, merchant, product, stripe_api_base, figures
):
    placed = _paid(api, rt, product, stripe_api_base)
    oid, total = placed["order_id"], placed["amounts"]["total"]
    partial = api.post(f"/v1/orders/{oid}/refund", {"amount": 1000}, key=merchant.secret)
    assert partial.status_code == 200, partial.body
    assert refunds_at_stripe(stripe_api_base, placed["payment_intent_id"]) == [1000]
    too_much = api.post(f"/v1/orders/{oid}/refund", {"amount": total}, key=merchant.secret)
    assert too_much.status_code == 422, too_much.body
    rest = api.post(f"/v1/orders/{oid}/refund", {}, key=merchant.secret)
    assert rest.json["status"] == "refunded", rest.body
    assert refunds_at_stripe(stripe_api_base, placed["payment_intent_id"]) == sorted(
        [1000, total - 1000]
    )
    figures["money_paths_checked_at_stripe"] += 1


def test_cancelling_a_paid_order_refunds_it_at_stripe(
    api, rt, merchant, product, stripe_api_base, figures
):
    placed = _paid(api, rt, product, stripe_api_base)
    cancelled = api.post(f"/v1/orders/{placed['order_id']}/cancel", {}, key=merchant.secret)
    assert cancelled.status_code == 200, cancelled.body
    assert cancelled.json["amounts"]["refunded"] == placed["amounts"]["total"]
    at_stripe = refunds_at_stripe(stripe_api_base, placed["payment_intent_id"])
    assert at_stripe == [placed["amounts"]["total"]]
    figures["money_paths_checked_at_stripe"] += 1


def test_a_late_payment_without_stock_is_refunded_at_stripe(
    api, rt, merchant, product, stripe_api_base, figures
):
    rt.settings.reservation_minutes = -1
    late = _placed(api, product, 2)
    pay(stripe_api_base, late["payment_intent_id"])
    assert expire(api).payload == {"expired": 1}
    rt.settings.reservation_minutes = 30
    _placed(api, product, 4)  # leaves 1 of 5: not enough to take the late order's 2 again
    intent = stripe_intent(stripe_api_base, late["payment_intent_id"])
    assert intent["status"] == "succeeded"
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    order = order_of(api, merchant, late["order_id"])
    assert order["status"] == "refunded", order
    assert refunds_at_stripe(stripe_api_base, late["payment_intent_id"]) == [
        late["amounts"]["total"]
    ]
    # delivered again (Stripe retries; SQS is at least once): still one refund
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    assert refunds_at_stripe(stripe_api_base, late["payment_intent_id"]) == [
        late["amounts"]["total"]
    ]
    figures["money_paths_checked_at_stripe"] += 1


def test_a_payment_after_the_merchant_cancelled_is_refunded_at_stripe(
    api, rt, merchant, product, stripe_api_base, figures
):
    placed = _placed(api, product, 1)
    # the buyer's card is charged while the merchant cancels: Stripe cannot stop it any more
    pay(stripe_api_base, placed["payment_intent_id"])
    cancelled = api.post(f"/v1/orders/{placed['order_id']}/cancel", {}, key=merchant.secret)
    assert cancelled.status_code == 200, cancelled.body
    intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
    assert intent["status"] == "succeeded"
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    assert order_of(api, merchant, placed["order_id"])["status"] == "refunded"
    assert refunds_at_stripe(stripe_api_base, placed["payment_intent_id"]) == [
        placed["amounts"]["total"]
    ]
    figures["money_paths_checked_at_stripe"] += 1


def test_a_late_payment_that_takes_its_stock_again_keeps_the_money(
    api, rt, merchant, product, stripe_api_base
):
    rt.settings.reservation_minutes = -1
    late = _placed(api, product, 2)
    pay(stripe_api_base, late["payment_intent_id"])
    expire(api)
    intent = stripe_intent(stripe_api_base, late["payment_intent_id"])
    deliver(api, event("payment_intent.succeeded", intent))
    drain(api, rt)
    assert order_of(api, merchant, late["order_id"])["status"] == "paid"
    assert refunds_at_stripe(stripe_api_base, late["payment_intent_id"]) == []
