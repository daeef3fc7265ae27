"""The platforms' own published samples through `make run`, as a developer sends them with
`python -m devstack.cli send-event tests/platform_samples/…`: each has its documented effect
on the demo shop (the stack connects the samples' accounts and seeds the stand-in), and none
ends in the dead-letter queue."""

import json
import time

import pytest

from devstack import corpus
from devstack.sample_events import post
from tests.e2e.stack import UNKNOWN_TIKTOK_ORDER
from tests.integration.corpus_helpers import problems

pytestmark = pytest.mark.e2e

DEADLINE_SECONDS = 60


def _inbox(api, key) -> list[dict]:
    items, cursor = [], None
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        page = api.get(f"/v1/inbox{query}", key=key).json()
        items += page["data"]
        if not page["has_more"]:
            return items
        cursor = page["next_cursor"]


def _log_lines(output: str) -> list[dict]:
    lines = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_every_published_sample_has_its_effect_through_make_run(devstack, api):
    key = devstack.info["api_key"]
    answers = {}
    for delivery in corpus.deliveries():
        status, body = post(delivery.route, delivery.raw, devstack.info)
        assert status == 200, (delivery.sample, body)
        answers[delivery.sample] = json.loads(body)

    def order_of(order_id: str):
        found = api.get(f"/v1/orders/{order_id}", key=key)
        return found.json() if found.status_code == 200 else None

    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        inbox, logs = _inbox(api, key), _log_lines(devstack.output())
        failing = {
            d.sample: found
            for d in corpus.deliveries()
            if (found := problems(d, answers[d.sample], inbox, order_of, logs))
        }
        if not failing:
            break
        assert time.monotonic() < deadline, json.dumps(failing, indent=1)
        time.sleep(0.5)

    sqs = devstack.sqs()
    dead = sqs.receive_message(
        QueueUrl=devstack.info["queues"]["shoppable-ingest-dlq"],
        MaxNumberOfMessages=10,
        VisibilityTimeout=0,
    ).get("Messages", [])
    bodies = [_message(m["Body"]) for m in dead]
    ours = [b for b in bodies if (b.get("data") or {}).get("order_id") != UNKNOWN_TIKTOK_ORDER]
    kinds = [str(b.get("type", "")) for b in ours]
    assert [k for k in kinds if k.startswith(("platform.", "stripe."))] == []


def _message(body: str) -> dict:
    try:
        found = json.loads(body)
        return found if isinstance(found, dict) else {}
    except ValueError:
        return {}
