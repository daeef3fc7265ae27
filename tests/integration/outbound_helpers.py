"""The outbox and the webhook queue run as Lambda's event source mappings run them: the main
table's stream read by the dev stack's own reader, the webhook queue received and fed to the
consumer in Lambda's SQS shape."""

import json

from standardwebhooks.webhooks import Webhook

from devstack.stream_poller import StreamReader, deliver


class Outbox:
    """Reads the main table's stream from its start through `on_outbox`."""

    def __init__(self, api, rt):
        self.api = api
        arn = rt.dynamodb.describe_table(TableName=rt.settings.main_table)["Table"][
            "LatestStreamArn"
        ]
        self.reader = StreamReader(rt.boto_client("dynamodbstreams"), arn, rt.settings.region)
        self.failures = 0

    def invoke(self, event):
        return self.api.client.lambda_.invoke("on_outbox", event).payload

    def drain(self, rounds: int = 50) -> None:
        handler = _Invoker(self.invoke)
        for _ in range(rounds):
            count, failed = deliver(handler, self.reader, 100)
            self.failures += failed
            if not count and not failed:
                return
        raise AssertionError("the outbox did not drain")


class _Invoker:
    name = "on_outbox"

    def __init__(self, call):
        self.invoke = call


def drain_webhooks(api, rt, rounds: int = 50) -> int:
    """Feed the webhook queue to its consumer until it is empty; returns messages handled."""
    url = rt.sqs.get_queue_url(QueueName=rt.settings.webhook_queue)["QueueUrl"]
    handled = 0
    for _ in range(rounds):
        received = rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not received:
            return handled
        event = api.client.events.generate_sqs_event(
            queue_name=rt.settings.webhook_queue, message_bodies=[m["Body"] for m in received]
        )
        result = api.client.lambda_.invoke("on_webhook_attempt", event).payload
        assert result == {"batchItemFailures": []}, result
        for message in received:
            rt.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handled += len(received)
    raise AssertionError("the webhook queue did not drain")


def flush(api, rt, outbox: Outbox) -> None:
    """Publish what the outbox holds and attempt every delivery that is due."""
    outbox.drain()
    drain_webhooks(api, rt)


def register(api, key, url, events=("*",), **extra):
    response = api.post(
        "/v1/webhook_endpoints", {"url": url, "enabled_events": list(events), **extra}, key=key
    )
    assert response.status_code == 201, response.body
    return response.json


def verified(delivery, *secrets) -> dict:
    """The delivery's body, verified with the `standardwebhooks` package against any one of
    `secrets` (it raises if none signed it)."""
    errors = []
    for secret in secrets:
        try:
            return Webhook(secret).verify(delivery.body, delivery.headers)
        except Exception as error:  # WebhookVerificationError
            errors.append(error)
    raise AssertionError(f"no secret verifies this delivery: {errors}")


def types(deliveries) -> list[str]:
    return [json.loads(d.body)["type"] for d in deliveries]


def use_settings(rt, **values) -> None:
    """Change outbound settings before the area is first built."""
    for name, value in values.items():
        setattr(rt.settings, name, value)
    rt.__dict__.pop("outbound", None)
    rt.__dict__.pop("webhook_handlers", None)


def paid_order(api, rt, product, quantity=1) -> str:
    """A storefront order, paid: Stripe's `payment_intent.succeeded` through the ingest queue."""
    from .sales_helpers import checkout_body, deliver, drain
    from .stripe_helpers import event

    placed = api.post("/v1/checkouts", checkout_body(product, quantities=(quantity,)))
    assert placed.status_code == 201, placed.body
    intent = {"id": placed.json["payment_intent_id"], "object": "payment_intent",
              "amount": placed.json["amounts"]["total"], "currency": "eur",
              "metadata": {"order_id": placed.json["order_id"]}}  # fmt: skip
    assert deliver(api, event("payment_intent.succeeded", intent)).status_code == 200
    drain(api, rt)
    return placed.json["order_id"]
