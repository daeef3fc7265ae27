"""Queue consumers through Chalice's Lambda entry point, with Lambda's SQS event shape."""

import json

import pytest


def sqs_event(client, *bodies):
    return client.events.generate_sqs_event(queue_name="shoppable-ingest", message_bodies=bodies)


def message(type_="test.thing", **data):
    return json.dumps(
        {"id": "evt_1", "type": type_, "occurred_at": "2026-11-01T10:00:00Z", "data": data}
    )


def test_a_bad_record_fails_alone_and_the_rest_of_the_batch_is_handled(api, rt, monkeypatch):
    handled = []
    monkeypatch.setitem(rt.ingest_handlers, "test.thing", lambda m: handled.append(m.data))
    event = sqs_event(api.client, message(n=1), "{not json", message(n=2))
    response = api.client.lambda_.invoke("on_ingest", event)
    failed = response.payload["batchItemFailures"]
    assert [f["itemIdentifier"] for f in failed] == [event["Records"][1]["messageId"]]
    assert handled == [{"n": 1}, {"n": 2}]


def test_a_failing_handler_is_reported_so_sqs_retries_it(api, rt, monkeypatch):
    def fail_on_second(m):
        if m.data["n"] == 2:
            raise RuntimeError("downstream unavailable")

    monkeypatch.setitem(rt.ingest_handlers, "test.thing", fail_on_second)
    event = sqs_event(api.client, message(n=1), message(n=2))
    response = api.client.lambda_.invoke("on_ingest", event)
    failed = [f["itemIdentifier"] for f in response.payload["batchItemFailures"]]
    assert failed == [event["Records"][1]["messageId"]]


def test_a_batch_that_fails_entirely_fails_the_invocation(api, rt, monkeypatch):
    """Powertools raises when every record failed, so Lambda retries the whole batch."""
    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    def boom(m):
        raise RuntimeError("downstream unavailable")

    monkeypatch.setitem(rt.ingest_handlers, "test.thing", boom)
    with pytest.raises(BatchProcessingError):
        api.client.lambda_.invoke("on_ingest", sqs_event(api.client, message()))


def test_unknown_message_types_are_acknowledged(api):
    event = sqs_event(api.client, message(type_="nobody.handles_this"))
    response = api.client.lambda_.invoke("on_ingest", event)
    assert response.payload == {"batchItemFailures": []}
