"""The ingest queue's consumer: webhook events, Stripe events and publishing jobs, each
dispatched on its message type to one service (the table is wired in `runtime.py`)."""

from typing import Any

from chalice import Blueprint
from chalice.app import SQSEvent

from ..consumers import INGEST_QUEUE, consume
from ..runtime import runtime

blueprint = Blueprint(__name__)


@blueprint.on_sqs_message(queue=INGEST_QUEUE, batch_size=10)
def on_ingest(event: SQSEvent) -> dict[str, Any]:
    return consume(runtime().ingest_handlers, event.to_dict())
