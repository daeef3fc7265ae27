"""Channels: seconds from the last unit's sale to every channel showing it out of stock, and
platform requests per stock change.

In this process: moto (`mock_aws`), the platform stand-in on loopback, the app through
Chalice's test client. A merchant connects TikTok Shop, Instagram (its Meta catalog) and
Pinterest through the OAuth redirect flow and lists a product. Each round puts one unit in
stock, lets the channels settle, then sells it with a TikTok order imported as the webhook's
consumer imports it (the reservation and the payment, committed); then the main table's
stream is read into the outbox's handler (`on_outbox`) and the ingest queue fed to its
consumer (`on_ingest`), as Lambda's event sources do, until the three channels show the
variant out of stock in the stand-in's own state.

- sold-out delay: from the sale (its import, committed) to the last channel out of stock,
  p50 and p99, against a floor measured in the same round: one read of the stream plus the
  three platform requests (the same bodies, to the same stand-in), the least any stream-fed
  push costs;
- platform requests per stock change: the pushes the stand-in received per change, one
  change at a time and in a burst of changes made before the pipeline runs (coalesced),
  against the floor of one request per channel per change (3).

Pipeline wait times (a poller's interval, Lambda's batching window) are not in these figures:
the stages run back to back, so the figure is the work, not the waiting.
"""

import json
import os
import statistics
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from bench import Result

ROUNDS = int(os.environ.get("BENCH_CHANNEL_ROUNDS", "15"))
BURST = 5
PUBLIC_API = "https://api.bench.test"
CATALOG = "881234567890123"
SECRETS = {
    "SHOPPABLE_META_APP_SECRET": "bench-meta-secret",
    "SHOPPABLE_META_VERIFY_TOKEN": "bench-verify",
    "SHOPPABLE_META_APP_ID": "1234567890123",
    "SHOPPABLE_TIKTOK_APP_KEY": "benchkey",
    "SHOPPABLE_TIKTOK_APP_SECRET": "bench-tiktok-secret",
    "SHOPPABLE_TIKTOK_SERVICE_ID": "7123456789012",
    "SHOPPABLE_PINTEREST_APP_ID": "1499999",
    "SHOPPABLE_PINTEREST_APP_SECRET": "bench-pinterest-secret",
    "SHOPPABLE_OAUTH_STATE_SECRET": "bench-state-secret-0123456789abcdef",
    "SHOPPABLE_PUBLIC_API_URL": PUBLIC_API,
}
PUSHES = ("/inventory/update", "/items_batch", "/v5/catalogs/items/batch")


def run() -> list[Result]:
    import urllib3
    from chalice.test import Client
    from moto import mock_aws

    from chalicelib import runtime as runtime_module
    from chalicelib.domain.platform_orders import PlatformLine, PlatformOrder
    from chalicelib.resources import provision
    from chalicelib.services.merchants import create_merchant
    from chalicelib.services.platform_orders import import_or_update
    from devstack.connect import consent
    from devstack.platform_standin import PlatformStandin
    from devstack.stream_poller import StreamReader, deliver

    standin = PlatformStandin()
    standin.oauth.register_redirect("tiktok", f"{PUBLIC_API}/v1/connections/tiktok/callback")
    standin.start()
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 (moto's fake credentials)
        AWS_REGION="us-east-1",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        **SECRETS,
        **standin.base_urls(),
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    http = urllib3.PoolManager(retries=False)
    with mock_aws():
        rt = runtime_module.reset()
        provision(rt)
        import app

        client = Client(app.app)
        merchant = create_merchant(rt.merchants, "Bench")
        auth = {"Authorization": f"Bearer {merchant.secret}", "Content-Type": "application/json"}

        def call(method: str, path: str, body: dict | None = None) -> dict:
            answer = client.http.request(
                method, path, headers=auth, body=json.dumps(body) if body is not None else b""
            )
            assert answer.status_code < 300, answer.body
            return json.loads(answer.body) if answer.body else {}

        for platform in ("tiktok", "instagram", "pinterest"):
            url = call("POST", f"/v1/connections/{platform}/authorize")["authorize_url"]
            back = urlsplit(consent(url))
            done = client.http.request("GET", f"{back.path}?{back.query}")
            assert done.status_code == 200, done.body
        call("PATCH", "/v1/settings", {"meta_catalog_id": CATALOG})

        arn = rt.dynamodb.describe_table(TableName=rt.settings.main_table)["Table"][
            "LatestStreamArn"
        ]
        reader = StreamReader(rt.boto_client("dynamodbstreams"), arn, rt.settings.region)
        ingest_url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]

        class Outbox:
            name = "on_outbox"

            def invoke(self, event: dict) -> dict:
                return client.lambda_.invoke("on_outbox", event).payload  # type: ignore[no-any-return]

        def settle(done: Callable[[], bool] = lambda: False) -> float | None:
            """Run the stream and the queue until nothing is left; returns the moment `done`
            first held (checked after each stage), if it did."""
            reached = None
            for _ in range(20):
                records, _ = deliver(Outbox(), reader, 1000)
                received = rt.sqs.receive_message(QueueUrl=ingest_url, MaxNumberOfMessages=10).get(
                    "Messages", []
                )
                if received:
                    event = client.events.generate_sqs_event(
                        queue_name=rt.settings.ingest_queue,
                        message_bodies=[m["Body"] for m in received],
                    )
                    client.lambda_.invoke("on_ingest", event)
                    for m in received:
                        rt.sqs.delete_message(QueueUrl=ingest_url, ReceiptHandle=m["ReceiptHandle"])
                if reached is None and done():
                    reached = time.perf_counter()
                if not records and not received:
                    return reached
            return reached

        body = {"title": "Linen shirt", "images": ["https://cdn.example.com/shirt.jpg"],
                "variants": [{"sku": "BENCH-1", "price": {"amount": 4900, "currency": "EUR"},
                              "inventory": {"on_hand": 0}}]}  # fmt: skip
        product = call("POST", "/v1/products", body)
        variant_id = product["variants"][0]["id"]
        settle()
        sequence = iter(range(1, 10_000))

        def stock(units: int) -> None:
            on_hand = rt.product_store.variants([variant_id])[0].on_hand + units
            patch = {"variants": [{"id": variant_id, "inventory": {"on_hand": on_hand}}]}
            call("PATCH", f"/v1/products/{product['id']}", patch)
            settle()

        def sell_one() -> None:
            order = PlatformOrder(
                platform="tiktok", external_id=f"bench{next(sequence)}", status="paid",
                currency="EUR", lines=[PlatformLine(sku="BENCH-1", quantity=1, unit_price=4900)],
            )  # fmt: skip
            import_or_update(rt.sales, merchant.merchant.id, order)

        def sold_out_everywhere() -> bool:
            meta = standin.meta_item(CATALOG, "BENCH-1") or {}
            pin = standin.pinterest_item("BENCH-1") or {}
            return (
                standin.tiktok_stock("BENCH-1") == 0
                and meta.get("availability") == "out of stock"
                and pin.get("availability") == "out of stock"
            )

        def pushes() -> int:
            return sum(
                1 for r in standin.requests if r.method == "POST" and r.path.endswith(PUSHES)
            )

        def floor_once(bodies: list[tuple[str, dict]]) -> float:
            rt.table.put({"pk": "BENCH#floor", "sk": "FLOOR", "at": str(time.time())})
            t = time.perf_counter()
            reader.read(1000)
            for url, sent in bodies:
                http.request("POST", url, body=json.dumps(sent).encode(),
                             headers={"Content-Type": "application/json"})  # fmt: skip
            return time.perf_counter() - t

        delays: list[float] = []
        floors: list[float] = []
        single: list[int] = []
        for _ in range(ROUNDS):
            stock(1)
            before, seen = pushes(), len(standin.requests)
            t0 = time.perf_counter()
            sell_one()
            reached = settle(sold_out_everywhere)
            assert reached is not None, "a channel still shows the variant in stock"
            delays.append(reached - t0)
            single.append(pushes() - before)
            sent = [(f"{standin.url}/{r.platform}{r.path}", r.body)
                    for r in standin.requests[seen:]
                    if r.method == "POST" and r.path.endswith(PUSHES)]  # fmt: skip
            floors.append(floor_once(sent))

        stock(BURST)
        before = pushes()
        for _ in range(BURST):
            sell_one()
        settle()
        assert sold_out_everywhere()
        burst = pushes() - before
        runtime_module.reset()
    standin.stop()

    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    floor_p50 = statistics.median(floors) * 1000
    return [
        Result("channels sold-out delay p50", p(delays, 0.5), "ms", floor=floor_p50, target=20.0),
        Result("channels sold-out delay p99", p(delays, 0.99), "ms", floor=p(floors, 0.99)),
        Result(
            "channel requests per stock change",
            statistics.mean(single),
            "req",
            floor=3.0,
            target=1.0,
        ),
        Result(
            f"channel requests per stock change, {BURST} at once",
            burst / BURST,
            "req",
            floor=3.0,
            target=1.0,
        ),
        Result("sold-out rounds measured", len(delays), ""),
    ]
