"""Delivery: signatures during a secret rotation, retries with backoff, 410 and failing
endpoints disabled (with a notice), redelivery, the events kept and listed, and inventory.low.
Every signature is verified with the `standardwebhooks` package."""

import json

from .outbound_helpers import (
    Outbox,
    drain_webhooks,
    flush,
    paid_order,
    register,
    types,
    use_settings,
    verified,
)


def test_during_a_rotation_both_secrets_sign_and_afterwards_only_the_new(
    api, rt, merchant, product, receiver
):
    old = register(api, merchant.secret, receiver.url, ["order.created"])
    outbox = Outbox(api, rt)
    rotated = api.post(
        f"/v1/webhook_endpoints/{old['id']}/rotate_secret", {"grace_hours": 24},
        key=merchant.secret,
    )  # fmt: skip
    assert rotated.status_code == 200, rotated.body
    new_secret = rotated.json["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old["secret"]
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    (during,) = receiver.wait_for(1, timeout=5)
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    verified(during, old["secret"])  # a receiver still on the old secret
    verified(during, new_secret)  # and one that switched already

    again = api.post(
        f"/v1/webhook_endpoints/{old['id']}/rotate_secret", {"grace_hours": 0}, key=merchant.secret
    )
    newest = again.json["secret"]
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    after = receiver.wait_for(2, timeout=5)[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    verified(after, newest)
    for stale in (old["secret"], new_secret):
        try:
            verified(after, stale)
        except AssertionError:
            continue
        raise AssertionError("a retired secret still verifies")


def test_failed_attempts_are_retried_and_listed(api, rt, merchant, product, receiver):
    use_settings(rt, webhook_retry_seconds=[0, 0, 0])
    answers = iter([500, 503])
    receiver.on_delivery = lambda delivery: next(answers, 200)
    endpoint = register(api, merchant.secret, receiver.url, ["order.paid"])
    outbox = Outbox(api, rt)
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    got = receiver.wait_for(3, timeout=5)
    assert len(got) == 3
    assert len({d.headers["webhook-id"] for d in got}) == 1  # the same id on every retry
    for delivery in got:
        verified(delivery, endpoint["secret"])
    attempts = api.get(
        f"/v1/webhook_endpoints/{endpoint['id']}/deliveries", key=merchant.secret
    ).json["data"]
    assert [(a["attempt"], a["status"], a["response_status"]) for a in attempts] == [
        (3, "succeeded", 200), (2, "failed", 503), (1, "failed", 500),
    ]  # fmt: skip
    assert attempts[1]["next_retry_at"] is not None and attempts[0]["next_retry_at"] is None
    assert all(a["latency_ms"] >= 0 for a in attempts)
    read = api.get(f"/v1/webhook_endpoints/{endpoint['id']}", key=merchant.secret).json
    assert read["enabled"] and read["failing_since"] is None  # recovered


def test_retries_follow_the_schedule_and_stop_when_it_is_exhausted(
    api, rt, merchant, product, receiver
):
    use_settings(rt, webhook_retry_seconds=[0, 0])
    receiver.status = 500
    endpoint = register(api, merchant.secret, receiver.url, ["order.paid"])
    outbox = Outbox(api, rt)
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    drain_webhooks(api, rt)
    assert len(receiver.wait_for(3, timeout=5)) == 3  # the first attempt and two retries
    attempts = api.get(
        f"/v1/webhook_endpoints/{endpoint['id']}/deliveries", key=merchant.secret
    ).json["data"]
    assert [a["attempt"] for a in attempts] == [3, 2, 1]
    assert attempts[0]["next_retry_at"] is None


def test_a_410_disables_the_endpoint_at_once_and_tells_the_merchant(
    api, rt, merchant, product, receiver
):
    use_settings(rt, webhook_retry_seconds=[0, 0, 0])
    receiver.status = 410
    gone = register(api, merchant.secret, receiver.url, ["order.paid"])
    outbox = Outbox(api, rt)
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    flush(api, rt, outbox)
    assert len(receiver.wait_for(1, timeout=5)) == 1  # no retry after 410
    read = api.get(f"/v1/webhook_endpoints/{gone['id']}", key=merchant.secret).json
    assert read["enabled"] is False and "410" in read["disabled_reason"]
    notices = api.get("/v1/events?type=webhook_endpoint.disabled", key=merchant.secret).json["data"]
    assert [n["data"]["webhook_endpoint_id"] for n in notices] == [gone["id"]]


def test_an_endpoint_failing_for_the_configured_time_is_disabled(
    api, rt, merchant, product, receiver
):
    use_settings(rt, webhook_retry_seconds=[0, 0, 0, 0], webhook_disable_after_hours=1e-9)
    receiver.status = 500
    failing = register(api, merchant.secret, receiver.url, ["order.paid"])
    outbox = Outbox(api, rt)
    paid_order(api, rt, product)
    flush(api, rt, outbox)
    flush(api, rt, outbox)
    read = api.get(f"/v1/webhook_endpoints/{failing['id']}", key=merchant.secret).json
    assert read["enabled"] is False and "failed" in read["disabled_reason"]
    attempts = len(receiver.deliveries)
    assert attempts == 2  # failing noted at the first, disabled at the second
    enabled = api.patch(f"/v1/webhook_endpoints/{failing['id']}", {"enabled": True},
                        key=merchant.secret)  # fmt: skip
    assert enabled.json["enabled"] and enabled.json["failing_since"] is None


def test_events_are_listed_by_type_and_time_and_can_be_redelivered(
    api, rt, merchant, product, receiver
):
    endpoint = register(api, merchant.secret, receiver.url)
    outbox = Outbox(api, rt)
    order_id = paid_order(api, rt, product)
    flush(api, rt, outbox)
    everything = api.get("/v1/events", key=merchant.secret).json["data"]
    assert [e["type"] for e in everything] == ["order.paid", "order.created"]
    paid = api.get("/v1/events?type=order.paid", key=merchant.secret).json["data"]
    assert [e["data"]["order_id"] for e in paid] == [order_id]
    since = paid[0]["timestamp"]
    later = api.get(f"/v1/events?created_from={since}", key=merchant.secret).json["data"]
    assert [e["id"] for e in later] == [paid[0]["id"]]
    assert api.get("/v1/events?type=order.lost", key=merchant.secret).status_code == 400

    before = len(receiver.wait_for(2, timeout=5))
    again = api.post(f"/v1/events/{paid[0]['id']}/redeliver", {}, key=merchant.secret)
    assert again.status_code == 202, again.body
    drain_webhooks(api, rt)
    got = receiver.wait_for(before + 1, timeout=5)
    assert got[-1].headers["webhook-id"] == paid[0]["id"]
    assert verified(got[-1], endpoint["secret"])["type"] == "order.paid"


def test_stock_falling_below_a_variants_threshold_is_announced_once(api, rt, merchant, receiver):
    price = {"amount": 1500, "currency": "EUR"}
    stock = {"on_hand": 5, "low_stock_threshold": 3}
    body = {"title": "Cap", "variants": [{"sku": "CAP", "price": price, "inventory": stock}]}
    product = api.post("/v1/products", body, key=merchant.secret).json
    assert product["variants"][0]["inventory"]["low_stock_threshold"] == 3
    endpoint = register(api, merchant.secret, receiver.url, ["inventory.low"])
    outbox = Outbox(api, rt)
    paid_order(api, rt, product, quantity=2)  # 5 -> 3: not below
    paid_order(api, rt, product, quantity=1)  # 3 -> 2: below
    paid_order(api, rt, product, quantity=1)  # 2 -> 1: still below, no new event
    flush(api, rt, outbox)
    outbox.reader.restart()  # the stream read again from its start: no duplicate
    flush(api, rt, outbox)
    got = receiver.wait_for(1, timeout=5)
    assert types(got) == ["inventory.low"]
    low = verified(got[0], endpoint["secret"])
    assert (low["data"]["available"], low["data"]["threshold"]) == (2, 3)
    assert json.loads(got[0].body)["data"]["sku"] == "CAP"
