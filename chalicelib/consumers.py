"""Queue consumers: each SQS record is parsed into a `Message` and dispatched on its type
through the handler table the consumer is given.

Records are processed with Powertools' batch processor, which answers `batchItemFailures`:
a record that fails is retried by SQS (and dead-lettered after the queue's receive count)
while the rest of its batch is deleted. Handlers must be idempotent, since SQS delivers at
least once, and must let failures raise rather than swallow them. A handler learns which
delivery of its message it is handling from `Message.attempt` (the record's
`ApproximateReceiveCount`), to wait a bounded number of times for what is not visible yet
(`RetryLater`, logged without a traceback) and then decide without waiting.
"""

import os
from collections.abc import Callable, Mapping
from typing import Any

from .domain.events import Message, RetryLater
from .observability import logger

# Chalice needs the queue name when app.py is imported; an optional setting with a default.
INGEST_QUEUE = os.environ.get("SHOPPABLE_INGEST_QUEUE", "shoppable-ingest")
WEBHOOK_QUEUE = os.environ.get("SHOPPABLE_WEBHOOK_QUEUE", "shoppable-webhooks")

Handler = Callable[[Message], None]


def dispatch(handlers: Mapping[str, Handler], body: str, message_id: str, attempt: int = 1) -> None:
    logger.thread_safe_clear_keys()
    kind = None
    try:
        message = Message.model_validate_json(body).model_copy(update={"attempt": max(attempt, 1)})
        kind = message.type
        logger.thread_safe_append_keys(message_id=message.id, merchant_id=message.merchant_id)
        handler = handlers.get(message.type)
        if handler is None:
            logger.warning("no handler for message type; acknowledged", extra={"type": kind})
            return
        handler(message)
    except RetryLater as waiting:
        logger.info(
            "message will be delivered again",
            extra={"type": kind, "attempt": attempt, "reason": str(waiting)},
        )
        raise
    except Exception as error:
        # One line that says which message failed and why (no traceback: the cause is in the
        # error's type and message); SQS delivers it again, then dead-letters it.
        logger.warning(
            "message failed; SQS delivers it again",
            extra={"type": kind, "sqs_message_id": message_id, "error": _named(error)},
        )
        raise
    logger.info("message handled", extra={"type": message.type, "sqs_message_id": message_id})


def _named(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def consume(handlers: Mapping[str, Handler], event: dict[str, Any]) -> dict[str, Any]:
    """Handle one Lambda SQS event; the answer lists the records SQS should deliver again."""
    # Powertools' batch module loads asyncio and its event models: only consumers need it.
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    def handle_record(record: Any) -> None:
        attempt = record.attributes.get("ApproximateReceiveCount") or "1"
        dispatch(handlers, record.body, record.message_id, int(attempt) if attempt.isdigit() else 1)

    answer: dict[str, Any] = process_partial_response(  # type: ignore[assignment]
        event=event, record_handler=handle_record, processor=BatchProcessor(EventType.SQS)
    )
    return answer


def consume_stream(
    publish: Callable[[list[dict[str, Any]]], None], event: dict[str, Any]
) -> dict[str, Any]:
    """Handle one Lambda DynamoDB Streams event, record by record, in order.

    At the first record that fails, stop: the answer names it in `batchItemFailures`, and
    Lambda retries the batch from that record on, so no later change of the same object is
    published before it (the order per object holds). Records before it were published; a
    retry that reads them again changes nothing (publication is keyed on the event id).
    """
    for record in event.get("Records", []):
        try:
            publish([record])
        except Exception:
            sequence = record.get("dynamodb", {}).get("SequenceNumber", "")
            logger.exception("outbox record failed; retried from here", extra={"seq": sequence})
            return {"batchItemFailures": [{"itemIdentifier": sequence}]}
    return {"batchItemFailures": []}
