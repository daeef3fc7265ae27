"""The outbox under faults on the publish side: whatever fails while the stream's records are
published (keeping the event, starting its deliveries, queueing the first attempt), every
committed change yields exactly one event, each object's events come in commit order, and
every event reaches the endpoint, verified with the `standardwebhooks` package."""

import random
from collections import defaultdict

from chalicelib.errors import ServiceUnavailable

from .outbound_helpers import Outbox, drain_webhooks, paid_order, register, use_settings, verified
from .sales_helpers import checkout_body


class Faults:
    def __init__(self, seed: int, rate: float):
        self.rng = random.Random(seed)
        self.rate = rate
        self.on = True
        self.injected = 0

    def wrap(self, call):
        def flaky(*args, **kwargs):
            if self.on and self.rng.random() < self.rate:
                self.injected += 1
                raise ServiceUnavailable("injected fault")
            result = call(*args, **kwargs)
            if self.on and self.rng.random() < self.rate:  # done, but the caller never hears
                self.injected += 1
                raise ServiceUnavailable("injected fault after the call")
            return result

        return flaky


def test_every_committed_change_yields_exactly_one_event_in_order(
    api, rt, merchant, product, receiver, monkeypatch
):
    use_settings(rt, webhook_retry_seconds=[0, 0, 0, 0, 0])
    endpoint = register(api, merchant.secret, receiver.url)
    outbox = Outbox(api, rt)
    faults = Faults(seed=13, rate=0.3)
    out = rt.outbound
    monkeypatch.setattr(out.events, "record", faults.wrap(out.events.record))
    monkeypatch.setattr(out.deliveries, "create", faults.wrap(out.deliveries.create))
    monkeypatch.setattr(rt.webhook_queue, "publish", faults.wrap(rt.webhook_queue.publish))

    key = merchant.secret
    shipped = [paid_order(api, rt, product) for _ in range(2)]
    for order_id in shipped:
        response = api.post(f"/v1/orders/{order_id}/fulfill",
                            {"carrier": "UPS", "tracking_number": "1Z"}, key=key)  # fmt: skip
        assert response.status_code == 200
    unpaid = api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).json["order_id"]
    assert api.post(f"/v1/orders/{unpaid}/cancel", {}, key=key).status_code == 200
    just_paid = paid_order(api, rt, product)

    outbox.drain(rounds=200)
    faults.on = False
    drain_webhooks(api, rt)
    assert faults.injected > 0 and outbox.failures > 0

    committed = {}
    for order_id in [*shipped, unpaid, just_paid]:
        history = api.get(f"/v1/orders/{order_id}", key=key).json["history"]
        committed[order_id] = [change["status"] for change in history]
    events, cursor = [], None
    while True:
        page = api.get("/v1/events?limit=100" + (f"&cursor={cursor}" if cursor else ""), key=key)
        events += page.json["data"]
        cursor = page.json["next_cursor"]
        if not page.json["has_more"]:
            break
    by_order = defaultdict(list)
    for evt in sorted(events, key=lambda e: (e["object_id"], e["sequence"])):
        by_order[evt["object_id"]].append(evt)
    assert set(by_order) == set(committed)
    for order_id, changes in committed.items():
        published = by_order[order_id]
        assert [e["sequence"] for e in published] == list(range(1, len(changes) + 1))
        assert [e["data"]["status"] for e in published] == changes
        timestamps = [e["timestamp"] for e in published]
        assert timestamps == sorted(timestamps)

    delivered = {}
    for delivery in receiver.deliveries:
        body = verified(delivery, endpoint["secret"])
        delivered[body["id"]] = body
    assert set(delivered) == {e["id"] for e in events}
