"""Publishing a post to the platforms: where it stands on each, and what a platform is given."""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict

from .base import Model


class PublicationStatus(StrEnum):
    QUEUED = "queued"
    PUBLISHED = "published"
    FAILED = "failed"


class Publication(Model):
    """Where a post stands on one platform."""

    status: PublicationStatus
    attempts: int = 0
    external_id: str | None = None
    url: str | None = None
    error: str | None = None
    updated_at: datetime


class PublishRequest(Model):
    model_config = ConfigDict(extra="forbid")

    platforms: list[Literal["instagram", "facebook", "pinterest", "tiktok", "x"]]


def retry_delay(attempt: int, base_seconds: int) -> int:
    """Exponential backoff for attempt 1, 2, …, within SQS's 15-minute delay limit."""
    delay: int = base_seconds * 2 ** max(attempt - 1, 0)
    return min(delay, 900)
