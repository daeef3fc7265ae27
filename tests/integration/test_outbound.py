"""Outbound webhooks through their entry points: the routes, the outbox stream's consumer
and the webhook queue's consumer, delivering to a receiver on loopback. Every delivered
signature is verified with the `standardwebhooks` package."""

import json

from .outbound_helpers import Outbox, flush, register, types, verified
from .sales_helpers import checkout_body, deliver
from .stripe_helpers import event


def test_a_paid_order_reaches_the_endpoint_signed(api, rt, merchant, product, receiver):
    endpoint = register(api, merchant.secret, receiver.url, ["order.created", "order.paid"])
    assert endpoint["secret"].startswith("whsec_")
    outbox = Outbox(api, rt)
    response = api.post("/v1/checkouts", checkout_body(product))
    assert response.status_code == 201, response.body
    order_id = response.json["order_id"]
    intent = {"id": response.json["payment_intent_id"], "object": "payment_intent",
              "amount": response.json["amounts"]["total"], "currency": "eur",
              "metadata": {"order_id": order_id}}  # fmt: skip
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    from .sales_helpers import drain

    drain(api, rt)
    flush(api, rt, outbox)
    got = receiver.wait_for(2, timeout=5)
    assert types(got) == ["order.created", "order.paid"]
    bodies = [verified(d, endpoint["secret"]) for d in got]
    assert [b["data"]["order_id"] for b in bodies] == [order_id, order_id]
    assert [b["sequence"] for b in bodies] == [1, 2]
    assert got[0].headers["webhook-id"] == bodies[0]["id"]
    text = b"".join(d.body for d in got).decode()
    assert "jane" not in text.lower() and "paix" not in text.lower()  # tokens, never values
    assert bodies[1]["data"]["customer_token"].startswith("cus_")
    # The secret is shown once; the endpoint read back never has it.
    read = api.get(f"/v1/webhook_endpoints/{endpoint['id']}", key=merchant.secret).json
    assert read["secret"] is None
    stored = json.dumps(rt.table.get({"pk": f"WE#{endpoint['id']}", "sk": "ENDPOINT"}))
    assert endpoint["secret"] not in stored and endpoint["secret"][6:] not in stored


def test_the_outbox_keeps_reading_after_a_failed_transaction(api, rt, merchant, product, receiver):
    """A checkout that loses the race for stock fails its transaction; the emulator then
    swaps the table for a copy. Events committed afterwards are still published."""
    register(api, merchant.secret, receiver.url, ["order.created"])
    outbox = Outbox(api, rt)
    assert api.post("/v1/checkouts", checkout_body(product, quantities=(5,))).status_code == 201
    outbox.drain()
    refused = api.post("/v1/checkouts", checkout_body(product, quantities=(1,)))
    assert refused.status_code == 409
    api.patch(f"/v1/products/{product['id']}",
              {"variants": [{"id": product["variants"][0]["id"], "inventory": {"on_hand": 9}}]},
              key=merchant.secret)  # fmt: skip
    assert api.post("/v1/checkouts", checkout_body(product, quantities=(1,))).status_code == 201
    flush(api, rt, outbox)
    assert types(receiver.wait_for(2, timeout=5)) == ["order.created", "order.created"]
