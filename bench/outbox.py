"""The outbox: events per second from commit to a merchant's receiver, and the delay.

In this process against moto (`mock_aws`), with a receiver on loopback (devstack/receiver.py):

- events: batches of 10 state changes, each committed with its event in one transaction (as a
  repository does: the object's item and the outbox item); then the stream read and handed to
  the outbox's consumer (keep the event, one delivery per endpoint, queue the attempt, and our
  own consumers of order events: the funnel's tally, the commission ledger), the
  webhook queue received and handed to its consumer (sign, POST, record the attempt);
- floor: the same number of committed changes, their stream records read and each record's
  new image POSTed to the receiver: the least any stream-fed webhook can cost.

Reported: events per second through the outbox against the floor's (target: at least a fifth
of it, time per event at most 5 times the floor's, as the outbox adds the event's record, the
delivery's record, a queue round trip, the attempt's record and a signature), and the delay
from each commit to its arrival at the receiver, p50 and p99.
"""

import json
import os
import statistics
import time
from datetime import UTC, datetime

from bench import Result

EVENTS = int(os.environ.get("BENCH_OUTBOX_EVENTS", "60"))
BATCH = 10


def run() -> list[Result]:
    import urllib3
    from moto import mock_aws

    from chalicelib import runtime as runtime_module
    from chalicelib.adapters.dynamodb import keys
    from chalicelib.adapters.dynamodb.outbox import add_event
    from chalicelib.consumers import consume, consume_stream
    from chalicelib.domain.ids import Prefix
    from chalicelib.domain.outbound import EventType, OrderEventData, new_event
    from chalicelib.resources import provision
    from chalicelib.services import outbound
    from devstack.receiver import Receiver
    from devstack.stream_poller import StreamReader

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's fake credentials)
        AWS_REGION="us-east-1",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        SHOPPABLE_WEBHOOK_LOCAL_URLS="true",
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    receiver = Receiver().start()
    http = urllib3.PoolManager(retries=False)
    arrived: dict[str, float] = {}
    receiver.on_delivery = lambda d: arrived.setdefault(d.headers.get("webhook-id", ""),
                                                        time.time()) and None  # fmt: skip
    with mock_aws():
        rt = runtime_module.reset()
        provision(rt)
        merchant = "mer_bench"
        from chalicelib.domain.outbound import WebhookEndpointCreate

        outbound.create_endpoint(
            rt.outbound, merchant, WebhookEndpointCreate(url=receiver.url, enabled_events=["*"])
        )
        arn = rt.dynamodb.describe_table(TableName=rt.settings.main_table)["Table"][
            "LatestStreamArn"
        ]
        reader = StreamReader(rt.boto_client("dynamodbstreams"), arn, rt.settings.region)
        reader.read(1000)  # past the endpoint's own record
        queue_url = rt.webhook_queue.url
        committed: dict[str, float] = {}

        def commit(n: int) -> None:
            order_id = f"ord_bench{n}"
            event = new_event(
                rt.clock.new_id(Prefix.EVENT), EventType.ORDER_PAID, merchant, order_id,
                OrderEventData(order_id=order_id, status="paid", source="storefront",
                               currency="EUR", total=4900),
                datetime.now(UTC),
            )  # fmt: skip
            tx = rt.table.transaction()
            tx.put({**keys.order(order_id), "status": "paid"})
            add_event(tx, event)
            rt.table.commit(tx)
            committed[event.id] = time.time()

        def through_outbox() -> None:
            for _, records in reader.read(1000):
                answer = consume_stream(
                    lambda r: outbound.publish_changes(rt.outbound, r, rt.event_consumers),
                    {"Records": records},
                )
                assert not answer["batchItemFailures"]
            while received := rt.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10
            ).get("Messages"):
                event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"],
                                      "receiptHandle": m["ReceiptHandle"], "attributes": {},
                                      "messageAttributes": {}, "md5OfBody": m["MD5OfBody"],
                                      "eventSource": "aws:sqs",
                                      "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
                                      "awsRegion": "us-east-1"} for m in received]}  # fmt: skip
                consume(rt.webhook_handlers, event)
                for m in received:
                    rt.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

        def floor() -> None:
            for _, records in reader.read(1000):
                for record in records:
                    body = json.dumps(record["dynamodb"]["NewImage"]).encode()
                    http.request("POST", receiver.url, body=body)

        commit(0)  # warm both paths
        through_outbox()
        timings = {"outbox": 0.0, "floor": 0.0}
        for start in range(1, EVENTS + 1, BATCH):
            for name, step in (("floor", floor), ("outbox", through_outbox)):
                for n in range(start, start + BATCH):
                    commit(n + (0 if name == "outbox" else 100_000))
                t = time.perf_counter()
                step()
                timings[name] += time.perf_counter() - t
        delays = sorted(arrived[e] - committed[e] for e in committed if e in arrived)
        runtime_module.reset()
    receiver.stop()
    outbox_rate = EVENTS / timings["outbox"]
    floor_rate = EVENTS / timings["floor"]
    p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))]
    return [
        Result("outbox events/s (commit to receiver)", outbox_rate, "/s"),
        Result(
            "outbox time per event", 1000 / outbox_rate, "ms", floor=1000 / floor_rate, target=5.0
        ),
        Result("outbox delay commit->delivery p50", statistics.median(delays) * 1000, "ms"),
        Result("outbox delay commit->delivery p99", p99 * 1000, "ms"),
        Result("outbox events delivered", len(delays), ""),
    ]
