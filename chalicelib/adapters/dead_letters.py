"""Dead-letter queues: moving what failed back to work once the cause is fixed.

A work queue's dead-letter queue is the one its redrive policy names (`<name>-dlq` in every
stack and in `make run`). `redrive` receives from it in batches of ten, sends each message to
the work queue with its attributes, and deletes from the dead-letter queue only what the work
queue took: a message is never lost, and at worst (a crash between send and delete) delivered
twice, which consumers are built for. SQS's own StartMessageMoveTask cannot stop after N
messages, and the emulator lacks it.
"""

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from ..errors import ShoppableError

BATCH = 10  # SQS's most per receive, send and delete
HIDE_SECONDS = 120  # a message being moved is hidden this long; it reappears if the move fails


class RedriveFailed(ShoppableError):
    code = "redrive_failed"


@dataclass(frozen=True)
class Redriven:
    queue: str
    dead_letter_queue: str
    moved: int
    failed: int
    left: int  # approximately, as SQS counts


def dead_letter_queue_of(client, queue_url: str) -> str:
    attributes = client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])
    policy = attributes.get("Attributes", {}).get("RedrivePolicy")
    if not policy:
        raise RedriveFailed(f"{queue_url} has no dead-letter queue (no redrive policy).")
    return json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1]


def redrive(client, queue: str, limit: int | None = None, wait_seconds: int = 2) -> Redriven:
    """Move up to `limit` messages (all, if None) from `queue`'s dead-letter queue back to it."""
    try:
        queue_url = client.get_queue_url(QueueName=queue)["QueueUrl"]
        dlq = dead_letter_queue_of(client, queue_url)
        dlq_url = client.get_queue_url(QueueName=dlq)["QueueUrl"]
        moved = failed = 0
        while limit is None or moved + failed < limit:
            want = BATCH if limit is None else min(BATCH, limit - moved - failed)
            received = client.receive_message(
                QueueUrl=dlq_url,
                MaxNumberOfMessages=want,
                WaitTimeSeconds=wait_seconds,  # long polling: empty means empty
                VisibilityTimeout=HIDE_SECONDS,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not received:
                break
            taken = _send(client, queue_url, received)
            if taken:
                client.delete_message_batch(
                    QueueUrl=dlq_url,
                    Entries=[
                        {"Id": str(n), "ReceiptHandle": received[n]["ReceiptHandle"]} for n in taken
                    ],
                )
            moved += len(taken)
            failed += len(received) - len(taken)
            if not taken:
                break  # the work queue refuses everything: stop rather than spin
        left = client.get_queue_attributes(
            QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        raise RedriveFailed(f"SQS refused the redrive of {queue} ({code}).") from error
    return Redriven(queue, dlq, moved, failed, int(left))


def _send(client, queue_url: str, messages: list[dict]) -> list[int]:
    """Send a batch; returns the indexes the queue took."""
    entries = []
    for n, message in enumerate(messages):
        entry = {"Id": str(n), "MessageBody": message["Body"]}
        if message.get("MessageAttributes"):
            entry["MessageAttributes"] = message["MessageAttributes"]
        entries.append(entry)
    answer = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
    return sorted(int(ok["Id"]) for ok in answer.get("Successful", []))
