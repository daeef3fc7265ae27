"""Buying through the app in-process: a buyer, checkouts, Stripe's events, the ingest queue
drained as Lambda's SQS integration would, and the schedules run as EventBridge would."""

from .stripe_helpers import signed

BUYER = {
    "customer": {"email": "Jane.Doe@example.com", "name": "Jane Doe", "phone": "+33612345678"},
    "shipping_address": {
        "line1": "12 rue de la Paix",
        "city": "Paris",
        "postal_code": "75002",
        "country": "FR",
    },
}


def checkout_body(product, quantities=(2,), **overrides):
    lines = [
        {"variant_id": v["id"], "quantity": q}
        for v, q in zip(product["variants"], quantities, strict=False)
    ]
    return {"lines": lines, **BUYER, **overrides}


def drain(api, rt):
    """Feed the ingest queue to the app's consumer in Lambda's shape, as the dev poller does."""
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    while True:
        received = rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not received:
            return
        sqs_event = api.client.events.generate_sqs_event(
            queue_name=rt.settings.ingest_queue, message_bodies=[m["Body"] for m in received]
        )
        result = api.client.lambda_.invoke("on_ingest", sqs_event).payload
        assert result == {"batchItemFailures": []}, result
        for message in received:
            rt.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def expire(api):
    """Run the scheduled reservation expiry as EventBridge would."""
    scheduled = api.client.events.generate_cw_event(
        source="aws.events",
        detail_type="Scheduled Event",
        detail={},
        resources=["arn:aws:events:us-east-1:123456789012:rule/expire"],
    )
    return api.client.lambda_.invoke("expire_reservations", scheduled)


def deliver(api, evt):
    payload, headers = signed(evt)
    return api.post("/v1/webhooks/stripe", raw=payload, headers=headers)


def stripe_intent(stripe_api_base, intent_id):
    import stripe

    client = stripe.StripeClient("sk_test_integration", base_addresses={"api": stripe_api_base})
    return client.v1.payment_intents.retrieve(intent_id).to_dict()


def inventory(api, merchant, product, index=0):
    got = api.get(f"/v1/products/{product['id']}", key=merchant.secret).json
    return got["variants"][index]["inventory"]


def order_of(api, merchant, order_id):
    return api.get(f"/v1/orders/{order_id}", key=merchant.secret).json
