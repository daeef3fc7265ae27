"""A poison message goes to the dead-letter queue after the queue's receive count, while the
rest of its batch is handled once."""

import json

from chalicelib.resources import QUEUES

from .queue_helpers import run_ingest_batch


def test_a_poison_message_is_dead_lettered_and_the_rest_of_its_batch_succeeds(api, rt, monkeypatch):
    handled = []

    def handler(message):
        if message.data.get("poison"):
            raise RuntimeError("cannot be handled")
        handled.append(message.id)

    monkeypatch.setitem(rt.ingest_handlers, "test.thing", handler)
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    dlq = rt.sqs.get_queue_url(QueueName=f"{rt.settings.ingest_queue}-dlq")["QueueUrl"]
    for n, poison in enumerate([False, True, False]):
        body = {"id": f"evt_{n}", "type": "test.thing", "occurred_at": "2026-11-01T10:00:00Z",
                "data": {"poison": poison}}  # fmt: skip
        rt.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    receives = next(s for s in QUEUES if s.setting == "ingest_queue").max_receive_count
    for _ in range(receives + 1):  # what Lambda's event source mapping does, batch by batch
        got = rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            continue
        run_ingest_batch(api, rt, rt.sqs, url, got)

    assert sorted(handled) == ["evt_0", "evt_2"]
    dead = rt.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"])["id"] for m in dead] == ["evt_1"]
    assert rt.sqs.receive_message(QueueUrl=url).get("Messages", []) == []
