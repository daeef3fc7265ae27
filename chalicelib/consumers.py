"""Queue consumers: each SQS record is parsed into a `Message` and dispatched on its type
through the handler table the consumer is given.

Records are processed with Powertools' batch processor, which answers `batchItemFailures`:
a record that fails is retried by SQS (and dead-lettered after the queue's receive count)
while the rest of its batch is deleted. Handlers must be idempotent, since SQS delivers at
least once, and must let failures raise rather than swallow them.
"""

import os
from collections.abc import Callable, Mapping
from typing import Any

from .domain.events import Message
from .observability import logger

# Chalice needs the queue name when app.py is imported; an optional setting with a default.
INGEST_QUEUE = os.environ.get("SHOPPABLE_INGEST_QUEUE", "shoppable-ingest")
WEBHOOK_QUEUE = os.environ.get("SHOPPABLE_WEBHOOK_QUEUE", "shoppable-webhooks")

Handler = Callable[[Message], None]


def dispatch(handlers: Mapping[str, Handler], body: str, message_id: str) -> None:
    logger.thread_safe_clear_keys()
    message = Message.model_validate_json(body)
    logger.thread_safe_append_keys(message_id=message.id, merchant_id=message.merchant_id)
    handler = handlers.get(message.type)
    if handler is None:
        logger.warning("no handler for message type; acknowledged", extra={"type": message.type})
        return
    handler(message)
    logger.info("message handled", extra={"type": message.type, "sqs_message_id": message_id})


def consume(handlers: Mapping[str, Handler], event: dict[str, Any]) -> dict[str, Any]:
    """Handle one Lambda SQS event; the answer lists the records SQS should deliver again."""
    # Powertools' batch module loads asyncio and its event models: only consumers need it.
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    def handle_record(record: Any) -> None:
        dispatch(handlers, record.body, record.message_id)

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
