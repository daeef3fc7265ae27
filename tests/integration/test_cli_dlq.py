"""`python -m devstack.cli dlq redrive`: dead letters back to their queue, on moto's SQS."""

import json

import pytest

from devstack.cli import main


def urls(rt, queue):
    work = rt.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    return work, rt.sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]


def bodies(rt, url):
    found = []
    while messages := rt.sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", []):
        found += messages
        for message in messages:
            rt.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def redrive(capsys, *args):
    code = main(["dlq", "redrive", *args])
    return code, json.loads(capsys.readouterr().out)


def test_a_message_that_kept_failing_goes_back_to_its_queue(rt, capsys):
    queue = rt.settings.ingest_queue
    work, dlq = urls(rt, queue)
    rt.sqs.send_message(
        QueueUrl=work,
        MessageBody='{"type": "stripe.payment_intent.succeeded"}',
        MessageAttributes={"trace": {"DataType": "String", "StringValue": "t-1"}},
    )
    # The consumer fails it every time: after maxReceiveCount receives, SQS dead-letters it.
    for _ in range(5):
        (failing,) = rt.sqs.receive_message(QueueUrl=work, VisibilityTimeout=0)["Messages"]
    assert rt.sqs.receive_message(QueueUrl=work).get("Messages", []) == []

    code, printed = redrive(capsys, "--queue", queue)

    assert code == 0
    assert printed == {
        "queue": queue,
        "dead_letter_queue": f"{queue}-dlq",
        "moved": 1,
        "failed": 0,
        "left_in_dead_letter_queue": 0,
    }
    (back,) = bodies(rt, work)
    assert back["Body"] == failing["Body"]
    assert back["MessageAttributes"]["trace"]["StringValue"] == "t-1"
    assert bodies(rt, dlq) == []


def test_every_dead_letter_moves_in_batches(rt, capsys):
    queue = rt.settings.webhook_queue
    work, dlq = urls(rt, queue)
    for n in range(23):
        rt.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": n}))

    code, printed = redrive(capsys, "--queue", queue)

    assert code == 0
    assert (printed["moved"], printed["left_in_dead_letter_queue"]) == (23, 0)
    assert sorted(json.loads(m["Body"])["n"] for m in bodies(rt, work)) == list(range(23))


def test_max_moves_at_most_that_many(rt, capsys):
    queue = rt.settings.ingest_queue
    work, dlq = urls(rt, queue)
    for n in range(12):
        rt.sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"n": n}))

    code, printed = redrive(capsys, "--queue", queue, "--max", "5")

    assert code == 0
    assert (printed["moved"], printed["left_in_dead_letter_queue"]) == (5, 7)
    assert len(bodies(rt, work)) == 5
    assert len(bodies(rt, dlq)) == 7


def test_a_queue_without_dead_letter_queue_is_refused(rt, capsys):
    rt.sqs.create_queue(QueueName="no-redrive")
    assert main(["dlq", "redrive", "--queue", "no-redrive"]) == 2
    assert "no dead-letter queue" in capsys.readouterr().err


def test_an_unknown_queue_is_refused(rt, capsys):
    assert main(["dlq", "redrive", "--queue", "not-a-queue"]) == 2
    assert "NonExistentQueue" in capsys.readouterr().err


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_max_must_be_a_positive_number(rt, capsys, limit):
    with pytest.raises(SystemExit):
        main(["dlq", "redrive", "--queue", rt.settings.ingest_queue, "--max", limit])
    assert "positive whole number" in capsys.readouterr().err
