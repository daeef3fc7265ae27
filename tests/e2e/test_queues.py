"""The queue poller of the running stack: messages sent to the ingest queue reach the app's
consumer as Lambda would deliver them, and its `batchItemFailures` decide what is retried
and, after the queue's receive count, dead-lettered."""

import json
import time
import uuid

import pytest

pytestmark = pytest.mark.e2e

INGEST = "shoppable-ingest"
DEADLINE_SECONDS = 30


def _bodies_in(sqs, queue_url: str) -> list[str]:
    """Peek at a queue that nothing consumes (the dead-letter queue)."""
    found = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    return [m["Body"] for m in found.get("Messages", [])]


def _messages_left(sqs, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(count) for count in attributes.values())


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(devstack):
    sqs = devstack.sqs()
    queues = devstack.info["queues"]
    body = f"not json {uuid.uuid4()}"

    sqs.send_message(QueueUrl=queues[INGEST], MessageBody=body)

    deadline = time.monotonic() + DEADLINE_SECONDS
    while body not in _bodies_in(sqs, queues[f"{INGEST}-dlq"]):
        assert time.monotonic() < deadline, "the message never reached the dead-letter queue"
        time.sleep(0.5)


def test_a_valid_message_is_consumed(devstack):
    sqs = devstack.sqs()
    queues = devstack.info["queues"]
    event_id = f"evt_{uuid.uuid4().hex}"
    body = json.dumps(
        {"id": event_id, "type": "test.unknown", "occurred_at": "2026-01-01T00:00:00Z", "data": {}}
    )

    sqs.send_message(QueueUrl=queues[INGEST], MessageBody=body)

    deadline = time.monotonic() + DEADLINE_SECONDS
    while _messages_left(sqs, queues[INGEST]):
        assert time.monotonic() < deadline, "the message was never consumed"
        time.sleep(0.2)
    assert body not in _bodies_in(sqs, queues[f"{INGEST}-dlq"])
