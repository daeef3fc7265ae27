"""One checkout taken all the way to paid, through the same parts production runs, metered.

Per order, in sequence: the buyer's `POST /v1/checkouts`; the buyer pays at localstripe with
the client_secret (the browser's requests, not ours: not metered); Stripe's signed
`payment_intent.succeeded` posted to `/v1/webhooks/stripe`; the ingest queue received, handed
to its consumer and deleted, as Lambda's event source mapping does; the main table's stream
(`order.created`, `order.paid`, stock changes) handed to the outbox's consumer; the webhook
queue handed to its consumer, which posts to the merchant's endpoint; and one
`GET /v1/checkouts/{id}` of the storefront seeing it paid. Lambda invocations are one per HTTP
request (API Gateway too), one per vault command (its own function in production) and one
per consumer batch; their duration is the time measured here, an upper bound of a warm
function's on AWS.
"""

import hashlib
import hmac
import json
import os
import time
import urllib.request
from typing import Any

from bench.metering import Meter, Usage

BUYER_KEY = "sk_test_buyer"  # localstripe takes any key; the buyer's browser uses the intent


def _request(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> tuple:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback)
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


class PaidFlow:
    def __init__(self, stack, meter: Meter):
        from devstack.receiver import Receiver
        from devstack.stream_poller import StreamReader

        self.rt, self.api, self.meter = stack.rt, stack.api.api_base, meter
        self.stripe_base = stack.stripe.api_base
        self.secret = os.environ["SHOPPABLE_STRIPE_WEBHOOK_SECRET"]
        with meter.pause():
            arn = self.rt.dynamodb.describe_table(TableName=self.rt.settings.main_table)["Table"][
                "LatestStreamArn"
            ]
        self.stream = StreamReader(
            self.rt.boto_client("dynamodbstreams"), arn, self.rt.settings.region
        )
        self.stream.read(1000)  # past what came before
        self.receiver = Receiver().start()
        self._time_vault()

    def stop(self) -> None:
        self.receiver.stop()

    def _time_vault(self) -> None:
        """Each vault command is an invocation of the vault function in production."""
        client = self.rt.vault
        send = client._send

        def timed(command: dict) -> dict:
            started = time.perf_counter()
            try:
                return send(command)
            finally:
                self.meter.invoked("vault", started)

        client._send = timed

    def add_endpoint(self, merchant_id: str) -> None:
        from chalicelib.domain.outbound import WebhookEndpointCreate
        from chalicelib.services import outbound

        with self.meter.pause():
            outbound.create_endpoint(
                self.rt.outbound,
                merchant_id,
                WebhookEndpointCreate(url=self.receiver.url, enabled_events=["*"]),
            )
            self.drain_stream()

    # Each step

    def _api(self, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        started = time.perf_counter()
        status, answer = _request(method, self.api + path, body, headers)
        self.meter.invoked("api", started)
        return status, answer

    def checkout(self, body: dict) -> dict:
        status, answer = self._api(
            "POST", "/v1/checkouts", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        assert status == 201, answer
        return answer

    def pay(self, intent_id: str) -> dict:
        """As Stripe.js would, with a test card; then the event Stripe would send."""
        import stripe

        with self.meter.pause():
            buyer = stripe.StripeClient(BUYER_KEY, base_addresses={"api": self.stripe_base})
            method = buyer.v1.payment_methods.create(
                params={
                    "type": "card",
                    "card": {
                        "number": "4242424242424242",
                        "exp_month": 12,
                        "exp_year": 2030,
                        "cvc": "123",
                    },
                }
            )
            buyer.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
            intent = buyer.v1.payment_intents.confirm(intent_id)
        return json.loads(json.dumps(intent.to_dict(), default=str))

    def stripe_event(self, intent: dict) -> None:
        event = {
            "id": f"evt_bench_{intent['id']}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {"object": intent},
        }
        payload = json.dumps(event).encode()
        at = int(time.time())
        digest = hmac.new(self.secret.encode(), f"{at}.".encode() + payload, hashlib.sha256)
        status, answer = self._api(
            "POST",
            "/v1/webhooks/stripe",
            payload,
            {
                "Content-Type": "application/json",
                "Stripe-Signature": f"t={at},v1={digest.hexdigest()}",
            },
        )
        assert status == 200, answer

    def drain_queue(self, queue_url: str, handlers: dict, function: str) -> int:
        from chalicelib.consumers import consume

        handled = 0
        while messages := self.rt.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        ).get("Messages"):
            event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"],
                                  "receiptHandle": m["ReceiptHandle"],
                                  "attributes": m.get("Attributes", {}),
                                  "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                                  "eventSource": "aws:sqs",
                                  "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q",
                                  "awsRegion": "us-east-1"} for m in messages]}  # fmt: skip
            started = time.perf_counter()
            answer = consume(handlers, event)
            self.meter.invoked(function, started)
            assert not answer["batchItemFailures"], answer
            self.rt.sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                ],
            )
            handled += len(messages)
        return handled

    def drain_stream(self) -> None:
        from chalicelib.consumers import consume_stream
        from chalicelib.services import outbound

        for _, records in self.stream.read(1000):
            started = time.perf_counter()
            answer = consume_stream(
                lambda r: outbound.publish_changes(self.rt.outbound, r), {"Records": records}
            )
            self.meter.invoked("on_outbox", started)
            assert not answer["batchItemFailures"], answer

    def status(self, order_id: str, client_secret: str) -> str:
        query = urllib.parse.urlencode({"client_secret": client_secret})
        status, answer = self._api("GET", f"/v1/checkouts/{order_id}?{query}", None, {})
        assert status == 200, answer
        return answer["status"]

    # The whole way

    def run(self, body: dict) -> tuple[Usage, Usage]:
        """(the checkout request's usage, the rest of the way to paid's)."""
        placed = self.checkout(body)
        checkout = self.meter.settle()
        intent = self.pay(placed["payment_intent_id"])
        self.stripe_event(intent)
        rt = self.rt
        assert self.drain_queue(rt.ingest_queue.url, rt.ingest_handlers, "on_ingest") == 1
        self.drain_stream()
        self.drain_queue(rt.webhook_queue.url, rt.webhook_handlers, "on_webhook_attempt")
        self.drain_stream()  # the delivery's own records, if any reach the stream
        assert self.status(placed["order_id"], placed["client_secret"]) == "paid"
        return checkout, self.meter.settle()


def per_order(usages: list[Usage]) -> Usage:
    total = Usage()
    for usage in usages:
        total.add(usage)
    return total


def totals(usage: Usage, orders: int) -> dict[str, Any]:
    return {
        "dynamodb": usage.calls("dynamodb") / orders,
        "kms": usage.calls("kms") / orders,
        "stripe": usage.calls("stripe") / orders,
        "sqs": usage.calls("sqs") / orders,
        "lambda": sum(usage.lambda_invocations.values()) / orders,
    }
