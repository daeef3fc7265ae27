"""A merchant selling on TikTok Shop, Meta (its catalog) and Pinterest, and running the
stream and the ingest queue until the channels are in step."""

from .outbound_helpers import Outbox
from .platform_helpers import connect
from .sales_helpers import drain

CATALOG = "881234567890123"


def connect_channels(api, standin, merchant, catalog_id=CATALOG):
    for platform in ("tiktok", "instagram", "pinterest"):
        connect(api, standin, merchant, platform)
    done = api.patch("/v1/settings", {"meta_catalog_id": catalog_id}, key=merchant.secret)
    assert done.status_code == 200, done.body


def settle(api, rt, outbox: Outbox, rounds: int = 10) -> None:
    """Publish the stream's changes and run the jobs they queue, until nothing is left."""
    for _ in range(rounds):
        outbox.drain()
        before = _ingest_depth(rt)
        drain(api, rt)
        outbox.drain()
        if before == 0 and _ingest_depth(rt) == 0:
            return
    raise AssertionError("the channels did not settle")


def _ingest_depth(rt) -> int:
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    attributes = rt.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def channels_of(api, merchant, product_id):
    got = api.get(f"/v1/products/{product_id}", key=merchant.secret)
    assert got.status_code == 200, got.body
    return {c["channel"]: c for c in got.json["channels"]}
