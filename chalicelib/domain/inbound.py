"""What the platforms' webhooks tell us, as typed events: one per entry of a delivery.

A webhook delivery becomes one event per entry (Meta batches up to 1000), parsed by the
platform's own module (`adapters/platforms/<platform>.py`). Each event names the account it
is for (routed to a merchant through its connection by the consumer), an id to de-duplicate
on (the platform's, or a digest of the entry where it has none; the account is part of the
receipt, so the same object seen by two merchants' accounts reaches both), and only the
fields we act on: object ids, text and attachment links.

Nothing personal goes onto the queue: handles and names are left out even where a webhook
carries them (X's `users` map, Facebook's `from.name`). The consumer looks the author up by
the object's id (a comment, a post) and hands what it learns straight to the vault; only a
direct message, whose sender the platforms let us read by nothing else, carries the
platform's own id of its sender (an Instagram- or page-scoped id, an X user id), which means
nothing outside that platform and our app.
"""

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from .base import Model
from .claims import CancellationStatus, Requester
from .connections import Platform
from .engagement import Attachment, EngagementKind


@dataclass(frozen=True)
class Handshake:
    """A platform's subscription check answered: the bare challenge (Meta) or JSON (X)."""

    body: str | dict[str, Any]
    content_type: str = "application/json"


class NotAnEvent(ValueError):
    """The body is signed but is not a delivery we understand (answered 400)."""


# Deliveries nest a few levels (Meta: object, entry, changes, value, media); anything far
# deeper is not a delivery, and must not reach code that walks it recursively.
MAX_DEPTH = 32


def parse_delivery(raw: bytes) -> Any:
    """The JSON of a signed delivery; NotAnEvent if it is not JSON or nests too deep."""
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError) as error:  # RecursionError: nested past the stack
        raise NotAnEvent("the body is not JSON") from error
    if depth_exceeds(parsed, MAX_DEPTH):
        raise NotAnEvent(f"the body nests deeper than {MAX_DEPTH} levels")
    return parsed


def depth_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests lists and objects more than `limit` deep (walked without
    recursion, so a hostile body cannot exhaust the stack)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class InboundEvent(Model):
    model_config = ConfigDict(extra="forbid")

    source: str  # the webhook source whose module parsed it: meta, tiktok, x
    platform: Platform  # the connection's platform, to route on
    account_id: str
    dedupe_id: str
    occurred_at: int  # unix seconds, as the platform stamped it

    @property
    def receipt_key(self) -> str:
        """What a repeat is recognised by: the platform's id for the event, per account."""
        return f"{self.platform}:{self.account_id}:{self.dedupe_id}"


class EngagementAction(StrEnum):
    ADD = "add"  # new (or first seen)
    EDIT = "edit"  # its text changed: the item keeps its id
    REMOVE = "remove"  # deleted by its author or the platform


class EngagementReceived(InboundEvent):
    """A comment, mention or direct message on one of the merchant's accounts, or a change
    to one."""

    event: Literal["engagement"] = "engagement"
    action: EngagementAction = EngagementAction.ADD
    kind: EngagementKind
    external_id: str  # the comment's, tweet's or message's id on the platform
    media_id: str | None = None  # what it is about: the platform's media or the tweet replied to
    parent_id: str | None = None
    text: str = ""
    # On the queue the text is left out and waits in the store under this ref (see
    # services/social.py): a queued message outlives an erasure, the stored text does not.
    text_ref: str | None = None
    attachments: list[Attachment] = []
    author_id: str | None = None  # a message's sender as the platform ids them, to look up


class OrderStatusChanged(InboundEvent):
    """A platform order changed status; the order itself is fetched, so that the state
    applied is always the current one whatever order notifications arrive in."""

    event: Literal["order_status_change"] = "order_status_change"
    order_id: str
    status: str | None = None


class CancellationChanged(InboundEvent):
    """A cancellation of a platform order was requested or moved on (TikTok's
    CANCELLATION_STATUS_CHANGE): by the buyer (the merchant must answer), the seller or the
    platform."""

    event: Literal["cancellation_change"] = "cancellation_change"
    order_id: str
    cancel_id: str
    status: CancellationStatus
    requested_by: Requester | None = None
    requested_at: int | None = None  # unix seconds


class AccountDeauthorized(InboundEvent):
    """The seller took our app's access away at the platform (TikTok Shop's
    SELLER_DEAUTHORIZATION): the account's connection goes, and its tokens are shredded."""

    event: Literal["deauthorization"] = "deauthorization"


class SubscriptionTest(InboundEvent):
    """A platform's dashboard test (Meta's "Test" button): acknowledged and logged so an
    operator sees the subscription works, never queued (its account is no one's)."""

    event: Literal["test"] = "test"
    field: str


PlatformEvent = Annotated[
    EngagementReceived | OrderStatusChanged | CancellationChanged | AccountDeauthorized,
    Field(discriminator="event"),
]


def message_type(
    event: EngagementReceived | OrderStatusChanged | CancellationChanged | AccountDeauthorized,
) -> str:
    """Its type on the ingest queue: `platform.engagement`, `platform.order_status_change`,
    `platform.cancellation_change`, `platform.deauthorization`."""
    return f"platform.{event.event}"


def entry_digest(entry: Any) -> str:
    """For entries without an id of their own: the same entry gives the same digest."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]
