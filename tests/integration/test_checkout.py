"""From checkout to a paid, fulfilled, refunded order: Chalice app, moto, and localstripe."""

import json

import pytest

from chalicelib.adapters.dynamodb import keys
from tests.fixtures.app import WEBHOOK_SECRET, product_body

from .outbound_helpers import Outbox
from .sales_helpers import (
    BUYER,
    checkout_body,
    deliver,
    drain,
    expire,
    inventory,
    order_of,
    stripe_intent,
)
from .stripe_helpers import DECLINED_CARD, event, pay, signed


@pytest.fixture
def placed(api, merchant, product):
    response = api.post("/v1/checkouts", checkout_body(product))
    assert response.status_code == 201, response.body
    return response.json


@pytest.fixture
def paid(api, rt, merchant, product, placed, stripe_api_base):
    pay(stripe_api_base, placed["payment_intent_id"])
    intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
    assert intent["status"] == "succeeded"
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    return placed


def test_checkout_prices_on_the_server_and_holds_the_stock(api, rt, merchant, product, placed):
    assert placed["status"] == "pending_payment"
    assert placed["order_id"].startswith("ord_")
    assert placed["client_secret"].startswith(placed["payment_intent_id"])
    assert placed["amounts"] == {"currency": "EUR", "subtotal": 9800, "total": 9800, "refunded": 0}
    assert placed["lines"][0]["unit_price"] == {"amount": 4900, "currency": "EUR"}
    assert placed["customer"]["token"].startswith("cus_")
    assert placed["customer"]["email"] == "j***@example.com"
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 2, "available": 3}
    order = order_of(api, merchant, placed["order_id"])
    assert order["status"] == "pending_payment"
    assert order["payment_intent_id"] == placed["payment_intent_id"]
    stored = json.dumps(rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"])
    for personal in ("Jane", "jane.doe", "Jane.Doe@example.com", "+33612345678", "rue de la Paix"):
        assert personal not in stored


def test_a_client_price_is_not_accepted(api, product):
    body = checkout_body(product)
    body["lines"][0]["unit_price"] = 1
    response = api.post("/v1/checkouts", body)
    assert response.status_code == 422
    assert response.json["error"]["param"] == "lines[0].unit_price"


def test_the_payment_webhook_makes_the_order_paid_and_commits_the_stock(
    api, merchant, product, paid
):
    order = order_of(api, merchant, paid["order_id"])
    assert order["status"] == "paid"
    assert [h["status"] for h in order["history"]] == ["pending_payment", "paid"]
    assert inventory(api, merchant, product) == {"on_hand": 3, "reserved": 0, "available": 3}


def test_repeated_and_late_events_leave_the_same_state(
    api, rt, merchant, product, paid, stripe_api_base
):
    intent = stripe_intent(stripe_api_base, paid["payment_intent_id"])
    succeeded = event("payment_intent.succeeded", intent)
    again = deliver(api, succeeded)
    assert again.json == {"received": True, "duplicate": True}
    failed = event("payment_intent.payment_failed", intent)
    deliver(api, failed)
    deliver(api, event("payment_intent.succeeded", intent, event_id="evt_redelivered"))
    drain(api, rt)
    order = order_of(api, merchant, paid["order_id"])
    assert order["status"] == "paid"
    assert len(order["history"]) == 2
    assert inventory(api, merchant, product) == {"on_hand": 3, "reserved": 0, "available": 3}


def test_a_declined_card_fails_the_order_and_releases_the_stock(
    api, rt, merchant, product, placed, stripe_api_base
):
    pay(stripe_api_base, placed["payment_intent_id"], DECLINED_CARD)
    intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
    assert intent["status"] == "requires_payment_method"
    deliver(api, event("payment_intent.payment_failed", intent))
    drain(api, rt)
    assert order_of(api, merchant, placed["order_id"])["status"] == "payment_failed"
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 0, "available": 5}


def test_out_of_stock_names_the_line_and_stores_nothing(api, rt, merchant, product):
    before = rt.dynamodb.scan(TableName=rt.settings.main_table)["Count"]
    response = api.post("/v1/checkouts", checkout_body(product, quantities=(6,)))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "out_of_stock"
    assert response.json["error"]["param"] == "lines[0].quantity"
    sold_out = api.post("/v1/checkouts", checkout_body(product, quantities=(1, 1)))
    assert sold_out.json["error"]["param"] == "lines[1].quantity"
    assert rt.dynamodb.scan(TableName=rt.settings.main_table)["Count"] == before
    assert rt.dynamodb.scan(TableName=rt.settings.vault_table)["Count"] == 0
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 0, "available": 5}


def test_the_same_checkout_twice_is_one_order_and_one_payment(api, merchant, product):
    headers = {"Idempotency-Key": "cart-7f3a"}
    first = api.post("/v1/checkouts", checkout_body(product), headers=headers)
    again = api.post("/v1/checkouts", checkout_body(product), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json == again.json
    assert len(api.get("/v1/orders", key=merchant.secret).json["data"]) == 1
    assert inventory(api, merchant, product)["reserved"] == 2


@pytest.mark.parametrize(
    ("change", "status", "param"),
    [
        ({"lines": []}, 422, "lines"),
        ({"lines": [{"variant_id": "var_missing", "quantity": 1}]}, 422, "lines[0].variant_id"),
        ({"lines": [{"variant_id": "var_x", "quantity": 0}]}, 422, "lines[0].quantity"),
        ({"customer": {"email": "not-an-email", "name": "J"}}, 422, "customer.email"),
        (
            {
                "shipping_address": {
                    "line1": "x",
                    "city": "y",
                    "postal_code": "1",
                    "country": "France",
                }
            },
            422,
            "shipping_address.country",
        ),
        ({"post_id": "post_missing"}, 422, "post_id"),
    ],
)
def test_invalid_checkouts_name_the_field(api, rt, product, change, status, param):
    response = api.post("/v1/checkouts", checkout_body(product) | change)
    assert response.status_code == status, response.body
    assert response.json["error"]["param"] == param
    assert rt.dynamodb.scan(TableName=rt.settings.vault_table)["Count"] == 0


def test_more_lines_than_a_transaction_holds_is_a_clear_422(api, merchant):
    variants = [
        {"sku": f"S{i}", "price": {"amount": 100, "currency": "EUR"}, "inventory": {"on_hand": 1}}
        for i in range(50)
    ]
    ids = []
    for _ in range(2):
        created = api.post("/v1/products", product_body(variants=variants), key=merchant.secret)
        ids += [v["id"] for v in created.json["variants"]]
    lines = [{"variant_id": vid, "quantity": 1} for vid in ids]
    response = api.post("/v1/checkouts", {"lines": lines, **BUYER})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "too_many_lines"


def test_lines_from_two_shops_are_refused(api, merchant, other_merchant, product):
    foreign = api.post("/v1/products", product_body(), key=other_merchant.secret).json
    body = checkout_body(product)
    body["lines"].append({"variant_id": foreign["variants"][0]["id"], "quantity": 1})
    response = api.post("/v1/checkouts", body)
    assert response.status_code == 422
    assert response.json["error"]["param"] == "lines[1].variant_id"


def test_fulfil_then_refund_in_part_and_in_full(api, merchant, paid, stripe_api_base):
    oid, k = paid["order_id"], merchant.secret
    shipped = api.post(
        f"/v1/orders/{oid}/fulfill", {"carrier": "La Poste", "tracking_number": "6A123"}, key=k
    )
    assert shipped.status_code == 200, shipped.body
    assert shipped.json["status"] == "fulfilled"
    assert shipped.json["fulfillment"]["tracking_number"] == "6A123"
    again = api.post(f"/v1/orders/{oid}/fulfill", {"carrier": "x", "tracking_number": "y"}, key=k)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "invalid_transition"

    partial = api.post(f"/v1/orders/{oid}/refund", {"amount": 1000}, key=k)
    assert partial.status_code == 200, partial.body
    assert partial.json["status"] == "partially_refunded"
    assert partial.json["amounts"]["refunded"] == 1000
    too_much = api.post(f"/v1/orders/{oid}/refund", {"amount": 9000}, key=k)
    assert too_much.status_code == 422
    assert too_much.json["error"]["param"] == "amount"
    bare = api.client.http.post(
        f"/v1/orders/{oid}/refund", headers={"Authorization": f"Bearer {k}"}
    )
    rest = api.get(f"/v1/orders/{oid}", key=k)  # a bodyless refund is a refund of the rest
    assert bare.status_code == 200, bare.body
    assert rest.json["status"] == "refunded"
    assert rest.json["amounts"]["refunded"] == 9800
    assert api.post(f"/v1/orders/{oid}/refund", {}, key=k).status_code == 409
    refunded_at_stripe = stripe_intent(stripe_api_base, paid["payment_intent_id"])
    assert refunded_at_stripe["latest_charge"]


def test_charge_refunded_from_stripe_is_applied_once(api, rt, merchant, paid):
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": paid["payment_intent_id"],
        "amount": 9800,
        "amount_refunded": 2000,
        "currency": "eur",
        "billing_details": {"email": "jane.doe@example.com"},
    }
    deliver(api, event("charge.refunded", charge, "evt_refund_1"))
    deliver(api, event("charge.refunded", charge, "evt_refund_1_again"))
    drain(api, rt)
    order = order_of(api, merchant, paid["order_id"])
    assert order["status"] == "partially_refunded"
    assert order["amounts"]["refunded"] == 2000


def test_a_dispute_opens_and_closes(api, rt, merchant, paid):
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "payment_intent": paid["payment_intent_id"],
        "status": "needs_response",
        "amount": 9800,
        "currency": "eur",
    }
    deliver(api, event("charge.dispute.created", dispute, "evt_dp_open"))
    drain(api, rt)
    assert order_of(api, merchant, paid["order_id"])["status"] == "disputed"
    deliver(api, event("charge.dispute.closed", dispute | {"status": "won"}, "evt_dp_won"))
    drain(api, rt)
    assert order_of(api, merchant, paid["order_id"])["status"] == "paid"


def test_cancelling_releases_or_refunds_and_restocks(api, merchant, product, placed, paid_other):
    k = merchant.secret
    cancelled = api.post(f"/v1/orders/{placed['order_id']}/cancel", {}, key=k)
    assert cancelled.json["status"] == "cancelled"
    paid_cancel = api.post(
        f"/v1/orders/{paid_other['order_id']}/cancel", {"reason": "customer asked"}, key=k
    )
    assert paid_cancel.status_code == 200, paid_cancel.body
    assert paid_cancel.json["status"] == "cancelled"
    assert paid_cancel.json["amounts"]["refunded"] == paid_cancel.json["amounts"]["total"]
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 0, "available": 5}
    assert api.post(f"/v1/orders/{placed['order_id']}/cancel", {}, key=k).status_code == 409


@pytest.fixture
def paid_other(api, rt, product, stripe_api_base):
    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).json
    pay(stripe_api_base, placed["payment_intent_id"])
    intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
    deliver(api, event("payment_intent.succeeded", intent))
    drain(api, rt)
    return placed


def test_expired_reservations_release_stock_and_late_payments_are_never_lost(
    api, rt, merchant, product, stripe_api_base
):
    """Both buyers pay just as their reservations run out: the payments succeed at Stripe,
    but their webhooks arrive after the expiry released the stock."""
    rt.settings.reservation_minutes = -1
    late = api.post("/v1/checkouts", checkout_body(product, quantities=(2,))).json
    gone = api.post("/v1/checkouts", checkout_body(product, quantities=(3,))).json
    for placed in (late, gone):
        pay(stripe_api_base, placed["payment_intent_id"])
    assert expire(api).payload == {"expired": 2}
    assert order_of(api, merchant, late["order_id"])["status"] == "expired"
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 0, "available": 5}

    rt.settings.reservation_minutes = 30
    api.post("/v1/checkouts", checkout_body(product, quantities=(4,)))  # takes most of the stock
    for placed in (late, gone):
        intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
        deliver(api, event("payment_intent.succeeded", intent))
    drain(api, rt)
    # 1 unit was left: neither late payment can take its stock again, so both are refunded.
    for placed in (late, gone):
        order = order_of(api, merchant, placed["order_id"])
        assert order["status"] == "refunded", order
        assert order["amounts"]["refunded"] == order["amounts"]["total"]
    assert inventory(api, merchant, product) == {"on_hand": 5, "reserved": 4, "available": 1}


def test_a_late_payment_takes_its_stock_again_when_it_is_there(
    api, rt, merchant, product, stripe_api_base
):
    rt.settings.reservation_minutes = -1
    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(2,))).json
    pay(stripe_api_base, placed["payment_intent_id"])
    expire(api)
    intent = stripe_intent(stripe_api_base, placed["payment_intent_id"])
    deliver(api, event("payment_intent.succeeded", intent))
    drain(api, rt)
    assert order_of(api, merchant, placed["order_id"])["status"] == "paid"
    assert inventory(api, merchant, product) == {"on_hand": 3, "reserved": 0, "available": 3}


def test_an_event_for_an_order_not_yet_visible_is_retried(api, rt):
    intent = {"id": "pi_unknown", "object": "payment_intent", "metadata": {"order_id": "ord_x"}}
    deliver(api, event("payment_intent.succeeded", intent))
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    body = rt.sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]
    sqs_event = api.client.events.generate_sqs_event(
        queue_name=rt.settings.ingest_queue, message_bodies=[body, body]
    )
    with pytest.raises(Exception, match="not visible yet"):
        api.client.lambda_.invoke("on_ingest", sqs_event)


@pytest.mark.parametrize(
    "tamper",
    ["wrong_secret", "changed_body", "stale", "missing"],
)
def test_forged_stripe_webhooks_are_refused_and_nothing_is_queued(api, rt, tamper):
    evt = event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})
    secret = "whsec_wrong" if tamper == "wrong_secret" else WEBHOOK_SECRET
    payload, headers = signed(evt, secret=secret, at=0 if tamper == "stale" else None)
    if tamper == "changed_body":
        payload = payload.replace("pi_1", "pi_2")
    if tamper == "missing":
        headers = {}
    response = api.post("/v1/webhooks/stripe", raw=payload, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["type"] == "authentication"
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    assert "Messages" not in rt.sqs.receive_message(QueueUrl=url)


def test_order_events_are_published_without_personal_data(api, rt, merchant, paid):
    outbox = Outbox(api, rt)
    outbox.drain()
    listed = api.get("/v1/events", key=merchant.secret).json["data"]
    assert [e["type"] for e in reversed(listed)] == ["order.created", "order.paid"]
    assert "example.com" not in json.dumps(listed)


def test_orders_list_filters_by_status_and_time(api, merchant, product, paid):
    api.post("/v1/checkouts", checkout_body(product, quantities=(1,)))
    k = merchant.secret
    assert len(api.get("/v1/orders", key=k).json["data"]) == 2
    only_paid = api.get("/v1/orders?status=paid", key=k).json["data"]
    assert [o["id"] for o in only_paid] == [paid["order_id"]]
    assert api.get("/v1/orders?created_to=2020-01-01T00:00:00Z", key=k).json["data"] == []
    assert api.get("/v1/orders?status=lost", key=k).status_code == 400


def test_another_merchant_cannot_see_or_touch_your_orders(api, other_merchant, placed):
    k = other_merchant.secret
    oid = placed["order_id"]
    assert api.get(f"/v1/orders/{oid}", key=k).status_code == 404
    assert api.post(f"/v1/orders/{oid}/cancel", {}, key=k).status_code == 404
    assert api.post(f"/v1/orders/{oid}/refund", {}, key=k).status_code == 404
    assert api.get("/v1/orders", key=k).json["data"] == []


def test_an_erased_buyer_shows_as_erased_and_the_order_keeps_working(api, merchant, paid):
    token = order_of(api, merchant, paid["order_id"])["customer"]["token"]
    assert api.request("DELETE", f"/v1/customers/{token}", key=merchant.secret).status_code == 200
    order = order_of(api, merchant, paid["order_id"])
    assert order["customer"] == {"token": token, "email": None, "name": None, "erased": True}
    listed = api.get("/v1/orders", key=merchant.secret).json["data"][0]
    assert listed["customer"]["erased"] is True
    refunded = api.post(f"/v1/orders/{paid['order_id']}/refund", {}, key=merchant.secret)
    assert refunded.json["status"] == "refunded"
    shipped = api.get(f"/v1/customers/{token}?purpose=fulfillment", key=merchant.secret)
    assert shipped.status_code == 410


def test_a_cancel_that_loses_a_race_with_shipping_still_records_its_refund(
    api, rt, merchant, paid, monkeypatch
):
    """The refund is made at Stripe first; if the order was shipped in the meantime, the
    cancellation is refused but the refund is on the order, not lost."""
    real_move = rt.order_store.move

    def shipped_meanwhile(order, change, sources, stock=None, update=None, event=None):
        monkeypatch.setattr(rt.order_store, "move", real_move)
        api.post(
            f"/v1/orders/{order.id}/fulfill",
            {"carrier": "UPS", "tracking_number": "1Z"},
            key=merchant.secret,
        )
        return real_move(order, change, sources, stock, update, event)

    monkeypatch.setattr(rt.order_store, "move", shipped_meanwhile)
    response = api.post(f"/v1/orders/{paid['order_id']}/cancel", {}, key=merchant.secret)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "invalid_transition"
    order = order_of(api, merchant, paid["order_id"])
    assert order["status"] == "refunded"
    assert order["amounts"]["refunded"] == order["amounts"]["total"]


def _catalog_reads(rt):
    reads = []
    rt.dynamodb.meta.events.register(
        "before-call.dynamodb.BatchGetItem", lambda **_: reads.append("BatchGetItem")
    )
    return reads


def test_pricing_reads_only_the_variants_and_follows_a_renamed_product(api, rt, merchant, product):
    renamed = api.request(
        "PATCH", f"/v1/products/{product['id']}", {"title": "Washed linen shirt"},
        key=merchant.secret,
    )  # fmt: skip
    assert renamed.status_code == 200, renamed.body
    reads = _catalog_reads(rt)
    placed = api.post("/v1/checkouts", checkout_body(product))
    assert placed.status_code == 201, placed.body
    assert placed.json["lines"][0]["title"] == "Washed linen shirt"
    assert reads == ["BatchGetItem"], "the variants carry their product's title and price"


def test_a_variant_written_before_titles_were_kept_on_it_is_priced_from_its_product(
    api, rt, merchant, product
):
    variant_id = product["variants"][0]["id"]
    rt.dynamodb.update_item(
        TableName=rt.settings.main_table,
        Key={name: {"S": value} for name, value in keys.variant(variant_id).items()},
        UpdateExpression="REMOVE product_title",
    )
    reads = _catalog_reads(rt)
    placed = api.post("/v1/checkouts", checkout_body(product))
    assert placed.status_code == 201, placed.body
    assert placed.json["lines"][0]["title"] == "Linen shirt"
    assert reads == ["BatchGetItem", "BatchGetItem"]
