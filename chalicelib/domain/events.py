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
