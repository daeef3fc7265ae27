"""The queue poller: Lambda's SQS event source mapping, for every `@app.on_sqs_message`.

Each consumer gets a thread that receives up to `batch_size` messages (10 at most, SQS's limit
per call), hands them to the handler as one Lambda SQS event, and then does what the mapping
does with `ReportBatchItemFailures` on (DESIGN §7): records the handler reports in
`batchItemFailures` stay on the queue and the others are deleted; if the handler raises, or
reports an id that is empty or not in the batch, the whole batch stays. What stays is made
visible again after `SHOPPABLE_DEV_RETRY_SECONDS` (default 2) instead of the queue's visibility
timeout, so retries, and the redrive to the dead-letter queue after the queue's receive count,
happen within seconds locally.

The poller short-polls (`WaitTimeSeconds=0`, then a short pause when the queue is empty):
a long poll would occupy the single-threaded emulator, and every API request behind it, for
the whole wait. No error stops the poller; each is logged and polling goes on.
"""

import base64
import logging
import threading
from typing import Any

from chalice import Chalice
from chalice.app import SQSEventConfig
from chalice.config import Config

from .invoke import LambdaHandler, lambda_handler

logger = logging.getLogger(__name__)

MAX_MESSAGES_PER_RECEIVE = 10
IDLE_SECONDS = 0.25
ERROR_PAUSE_SECONDS = 2.0
STOP_WAIT_SECONDS = 10  # a batch in flight may finish; Ctrl-C should not wait for longer


class QueuePoller:
    def __init__(
        self,
        sqs,
        handler: LambdaHandler,
        queue_url: str,
        queue_arn: str,
        region: str,
        batch_size: int,
        retry_seconds: int,
    ):
        self._sqs = sqs
        self._handler = handler
        self.name = handler.name
        self.queue_url = queue_url
        self._queue_arn = queue_arn
        self._region = region
        self._batch_size = max(1, min(batch_size, MAX_MESSAGES_PER_RECEIVE))
        self._retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqs-poller-{handler.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_SECONDS)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                received = self.poll_once()
            except Exception:
                logger.exception("polling %s failed; polling goes on", self.queue_url)
                self._stop.wait(ERROR_PAUSE_SECONDS)
                continue
            if not received:
                self._stop.wait(IDLE_SECONDS)

    def poll_once(self) -> int:
        """Receive one batch and hand it to the handler; returns how many messages came."""
        messages = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        ids = [m["MessageId"] for m in messages]
        event = {"Records": [self._record(m) for m in messages]}
        try:
            failed = failed_message_ids(self._handler.invoke(event), ids)
        except Exception as error:
            failed = set(ids)
            self._report(error, len(ids))
        self._delete([m for m in messages if m["MessageId"] not in failed])
        self._retry_soon([m for m in messages if m["MessageId"] in failed])
        return len(messages)

    def _report(self, error: Exception, count: int) -> None:
        """One line, not a traceback. When every record of a batch failed, Powertools raises
        BatchProcessingError and the consumer has logged each message's failure in one line
        already; anything else is a failure of the handler itself. The traceback is logged at
        DEBUG level."""
        logger.debug("%s raised", self._handler.name, exc_info=error)
        if type(error).__name__ == "BatchProcessingError":
            return
        logger.error(
            "%s failed (%s: %s): its batch of %d is retried in %d s",
            self._handler.name, type(error).__name__, error, count, self._retry_seconds,
        )  # fmt: skip

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: _lambda_attribute(value)
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._region,
        }
        if "MD5OfMessageAttributes" in message:
            record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
        return record

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        response = self._sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )
        for failure in response.get("Failed", []):
            logger.error("could not delete a message from %s: %s", self.queue_url, failure)

    def _retry_soon(self, messages: list[dict[str, Any]]) -> None:
        if not messages:
            return
        response = self._sqs.change_message_visibility_batch(
            QueueUrl=self.queue_url,
            Entries=[
                {
                    "Id": str(i),
                    "ReceiptHandle": m["ReceiptHandle"],
                    "VisibilityTimeout": self._retry_seconds,
                }
                for i, m in enumerate(messages)
            ],
        )
        for failure in response.get("Failed", []):
            logger.error("could not reschedule a message on %s: %s", self.queue_url, failure)


def failed_message_ids(result: Any, batch_ids: list[str]) -> set[str]:
    """The ids Lambda would leave on the queue, given what the handler returned.

    No `batchItemFailures` (or an empty list, or no response) means the whole batch succeeded;
    an item without an id, or with an id that is not in the batch, fails the whole batch.
    """
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in batch_ids:
            logger.error("invalid batchItemFailures entry %r: the whole batch stays", item)
            return set(batch_ids)
        failed.add(identifier)
    return failed


def _lambda_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A message attribute as SQS's API returns it -> as Lambda's event carries it."""
    attribute: dict[str, Any] = {
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [_b64(b) for b in value.get("BinaryListValues", [])],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    return attribute


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def queue_pollers(
    app: Chalice, config: Config, sqs, region: str, retry_seconds: int
) -> list[QueuePoller]:
    """One poller per `@app.on_sqs_message`; a queue the emulator lacks is logged and skipped."""
    pollers = []
    for source in app.event_sources:
        if not isinstance(source, SQSEventConfig):
            continue
        name = source.queue or (source.queue_arn or "").rsplit(":", 1)[-1]
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            logger.error(
                "%s consumes queue %r, which provision() does not create", source.name, name
            )
            continue
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        handler = lambda_handler(app, config, source)
        pollers.append(
            QueuePoller(sqs, handler, url, arn, region, source.batch_size, retry_seconds)
        )
    return pollers
