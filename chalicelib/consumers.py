"""Queue consumers: each SQS record is parsed into a `Message` and dispatched on its type.

Records are processed with Powertools' batch processor, which answers `batchItemFailures`:
a record that fails is retried by SQS (and dead-lettered after the queue's receive count)
while the rest of its batch is deleted. Handlers must be idempotent, since SQS delivers at
least once, and must let failures raise rather than swallow them.
"""

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from .observability import logger

if TYPE_CHECKING:
    from .domain.events import Message

# Chalice needs the queue name when app.py is imported; an optional setting with a default.
INGEST_QUEUE = os.environ.get("SHOPPABLE_INGEST_QUEUE", "shoppable-ingest")

Handler = Callable[[object, "Message"], None]

# message type -> handler(runtime, message); filled on first use (see `ingest_handlers`), so
# that importing this module, as every function's `import app` does, loads no service.
INGEST_HANDLERS: dict[str, Handler] = {}
_defaults_loaded = False


def ingest_handlers() -> dict[str, Handler]:
    global _defaults_loaded
    if not _defaults_loaded:
        from .services import payments, social_consumers

        def with_sales(handler: Callable) -> Handler:
            return lambda rt, message: handler(rt.sales, message)

        defaults = {f"stripe.{kind}": with_sales(h) for kind, h in payments.HANDLERS.items()}
        defaults |= social_consumers.HANDLERS  # platform webhooks, publishing jobs
        for kind, handler in defaults.items():
            INGEST_HANDLERS.setdefault(kind, handler)  # a test may have put its own first
        _defaults_loaded = True
    return INGEST_HANDLERS


def dispatch(rt, handlers: dict[str, Handler], body: str, message_id: str) -> None:
    from .domain.events import Message

    logger.thread_safe_clear_keys()
    message = Message.model_validate_json(body)
    logger.thread_safe_append_keys(message_id=message.id, merchant_id=message.merchant_id)
    handler = handlers.get(message.type)
    if handler is None:
        logger.warning("no handler for message type; acknowledged", extra={"type": message.type})
        return
    handler(rt, message)
    logger.info("message handled", extra={"type": message.type, "sqs_message_id": message_id})


def consume(rt, handlers: dict[str, Handler], event: dict) -> dict:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    def handle_record(record) -> None:
        dispatch(rt, handlers, record.body, record.message_id)

    return process_partial_response(
        event=event, record_handler=handle_record, processor=BatchProcessor(EventType.SQS)
    )
