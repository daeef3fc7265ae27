"""The envelope of every message on our queues. Messages carry ids and tokens, never
personal data."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field

from .base import Model


class Message(Model):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=128)]
    type: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[a-z_]+(\.[a-z_]+)+$")]
    merchant_id: str | None = None
    occurred_at: datetime
    data: dict[str, Any] = {}
    # Which delivery of the message this is (SQS's ApproximateReceiveCount), set by the
    # consumer from the queue's record; never written to the queue.
    attempt: int = Field(1, ge=1, exclude=True)


class RetryLater(Exception):
    """Raised by a handler whose message is about something not visible yet (an order being
    written, a payment not applied yet): the queue delivers the message again later. Logged
    as an expected wait, without a traceback; handlers raise it a bounded number of times
    (see `Message.attempt`), so that it never ends in the dead-letter queue."""
