"""What the platforms' webhooks tell us, as typed events: one per entry of a delivery.

A webhook delivery becomes one event per entry (Meta batches up to 1000), parsed by the
platform's own module (`adapters/platforms/<platform>.py`). Each event names the account it
is for (routed to a merchant through its connection by the consumer), an id to de-duplicate
on (the platform's, or a digest of the entry where it has none), and only the fields we act
on: object ids and text. Who wrote a comment (a handle, a user id) is personal data and is
left out; the consumer asks the platform for it by the object's id and hands it straight to
the vault.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from .base import Model
from .connections import Platform
from .engagement import EngagementKind


@dataclass(frozen=True)
class Handshake:
    """A platform's subscription check answered: the bare challenge (Meta) or JSON (X)."""

    body: str | dict[str, Any]
    content_type: str = "application/json"


class NotAnEvent(ValueError):
    """The body is signed but is not a delivery we understand (answered 400)."""


class InboundEvent(Model):
    model_config = ConfigDict(extra="forbid")

    source: str  # the webhook source whose module parsed it: meta, tiktok, x
    platform: Platform  # the connection's platform, to route on
    account_id: str
    dedupe_id: str
    occurred_at: int  # unix seconds, as the platform stamped it


class EngagementReceived(InboundEvent):
    """A comment, mention or direct message on one of the merchant's accounts."""

    event: Literal["engagement"] = "engagement"
    kind: EngagementKind
    external_id: str  # the comment's, tweet's or message's id on the platform
    media_id: str | None = None  # what it is about: the platform's media or the tweet replied to
    parent_id: str | None = None
    text: str = ""
    # On the queue the text is left out and waits in the store under this ref (see
    # services/social.py): a queued message outlives an erasure, the stored text does not.
    text_ref: str | None = None


class OrderStatusChanged(InboundEvent):
    """A platform order changed status; the order itself is fetched, so that the state
    applied is always the current one whatever order notifications arrive in."""

    event: Literal["order_status_change"] = "order_status_change"
    order_id: str
    status: str | None = None


PlatformEvent = Annotated[EngagementReceived | OrderStatusChanged, Field(discriminator="event")]


def message_type(event: EngagementReceived | OrderStatusChanged) -> str:
    """Its type on the ingest queue: `platform.engagement`, `platform.order_status_change`."""
    return f"platform.{event.event}"


def entry_digest(entry: Any) -> str:
    """For entries without an id of their own: the same entry gives the same digest."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]
