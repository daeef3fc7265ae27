"""Webhook route: throughput of verify + enqueue, against a floor measured in the same run.

Both sides run in this process against moto (in-process, `mock_aws`), one delivery at a time:

- floor: one HMAC-SHA256 check of the raw body plus one `send_message`, the least any
  verified-and-queued webhook can cost;
- route: the Meta webhook's service as the route calls it (`social.receive_webhook`): verify
  the signature, parse the delivery (depth-limited) and split it, queue its event
  (`send_message_batch`).

The target is a throughput of at least 0.8 of the floor, i.e. a time per delivery of at most
1.25 times the floor's. Per-delivery latency p50 and p99 of the route are reported too.
"""

import hashlib
import hmac
import json
import os
import statistics
import time

from bench import Result

DELIVERIES = 400
SECRET = "bench-meta-secret"  # noqa: S105 (a bench-only secret)


def _delivery(n: int) -> bytes:
    body = {
        "object": "instagram",
        "entry": [
            {
                "id": "17841400000000000",
                "time": 1717000000,
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "id": f"c{n}",
                            "text": "price?",
                            "from": {"id": "1", "username": "u"},
                            "media": {"id": "m"},
                        },
                    }
                ],
            }
        ],
    }
    return json.dumps(body).encode()


def run() -> list[Result]:
    from moto import mock_aws

    from chalicelib import runtime as runtime_module
    from chalicelib.adapters.platforms import meta
    from chalicelib.resources import provision
    from chalicelib.services import social

    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's fake credentials)
        AWS_REGION="us-east-1",
        SHOPPABLE_META_APP_SECRET=SECRET,
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mock_aws():
        rt = runtime_module.reset()
        provision(rt)
        queue = rt.ingest_queue
        bodies = [_delivery(n) for n in range(DELIVERIES)]
        signatures = [meta.signature(SECRET, b) for b in bodies]

        def floor_once(raw: bytes, header: str) -> None:
            expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(expected, header)
            rt.sqs.send_message(QueueUrl=queue.url, MessageBody=raw.decode())

        def route_once(raw: bytes, header: str) -> None:
            social.receive_webhook(rt.social, "meta", raw, {"x-hub-signature-256": header})

        floor_once(bodies[0], signatures[0])  # warm both paths
        route_once(bodies[0], signatures[0])
        # Interleaved, so that both see the same queue depth and the same emulator state.
        timings: dict[str, list[float]] = {"floor": [], "route": []}
        for raw, header in zip(bodies, signatures, strict=True):
            for name, once in (("floor", floor_once), ("route", route_once)):
                t = time.perf_counter()
                once(raw, header)
                timings[name].append(time.perf_counter() - t)
        runtime_module.reset()

    floor_rate = DELIVERIES / sum(timings["floor"])
    route_rate = DELIVERIES / sum(timings["route"])
    each = sorted(timings["route"])
    p99 = each[min(len(each) - 1, int(len(each) * 0.99))]
    return [
        Result("webhook deliveries/s (verify + enqueue)", route_rate, "/s"),
        Result(
            "webhook time per delivery",
            1000 / route_rate,
            "ms",
            floor=1000 / floor_rate,
            target=1.25,
        ),
        Result("webhook latency p50", statistics.median(each) * 1000, "ms"),
        Result("webhook latency p99", p99 * 1000, "ms"),
    ]
