"""Social platforms as rules: deliveries split into internal events, keyword matching, and the
platforms' order states mapped onto ours. Pure: no HTTP, no clock, no AWS.

A webhook delivery becomes one `InboundEvent` per entry (Meta batches up to 1000). Each event
names the account it is for (routed to a merchant through its connection by the consumer), an
id to de-duplicate on (the platform's, or a digest of the entry where it has none), and only
the fields we act on: object ids and comment text. Who wrote a comment (a handle, a user id)
is personal data and is left out; the consumer fetches it from the platform by the comment's
id and hands it straight to the vault.
"""

import hashlib
import json
import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .connections import Platform
from .orders import OrderStatus


class EngagementKind(StrEnum):
    COMMENT = "comment"
    MENTION = "mention"
    MESSAGE = "message"


class InboundEvent(BaseModel):
    """One entry of a delivery, as it goes onto the ingest queue (`Message.data`)."""

    model_config = ConfigDict(extra="forbid")

    type: str  # the message type, e.g. `meta.comment`
    platform: Platform  # the connection's platform, to route on
    account_id: str
    dedupe_id: str
    occurred_at: int  # unix seconds, as the platform stamped it
    data: dict[str, Any] = {}


def entry_digest(entry: Any) -> str:
    """For entries without an id of their own: the same entry gives the same digest."""
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:40]


class NotAnEvent(ValueError):
    """The body is signed but is not a delivery we understand (answered 400)."""


# Webhook handshakes


class MetaSubscription(BaseModel):
    model_config = ConfigDict(extra="ignore")

    mode: str | None = Field(None, alias="hub.mode")
    verify_token: str | None = Field(None, alias="hub.verify_token")
    challenge: str | None = Field(None, alias="hub.challenge", max_length=200)


class CrcCheck(BaseModel):
    model_config = ConfigDict(extra="ignore")

    crc_token: str = Field(min_length=1, max_length=200)


# Meta (Instagram and Facebook Pages)

_META_OBJECTS = {"instagram": Platform.INSTAGRAM, "page": Platform.FACEBOOK}


def meta_events(payload: Any) -> list[InboundEvent]:
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise NotAnEvent("not a Meta webhook delivery")
    platform = _META_OBJECTS.get(payload.get("object"))
    if platform is None:
        return []
    events = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        account_id = str(entry.get("id", ""))
        at = int(entry.get("time") or 0)
        for change in entry.get("changes") or []:
            event = _meta_change(platform, account_id, at, change)
            if event is not None:
                events.append(event)
        for messaging in entry.get("messaging") or []:
            event = _meta_message(platform, account_id, at, messaging)
            if event is not None:
                events.append(event)
    return events


def _meta_change(platform: Platform, account_id: str, at: int, change: Any):
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        return None
    field, value = change.get("field"), change["value"]
    if field in ("comments", "feed") and (value.get("id") or value.get("comment_id")):
        if field == "feed" and value.get("item") != "comment":
            return None
        comment_id = str(value.get("id") or value.get("comment_id"))
        media = value.get("media") or {}
        return InboundEvent(
            type="meta.comment",
            platform=platform,
            account_id=account_id,
            dedupe_id=f"comment-{comment_id}",
            occurred_at=at,
            data={
                "kind": EngagementKind.COMMENT,
                "comment_id": comment_id,
                "media_id": str(media.get("id") or value.get("post_id") or "") or None,
                "parent_id": value.get("parent_id"),
                "text": str(value.get("text") or value.get("message") or "")[:2200],
            },
        )
    if field == "mentions" and value.get("comment_id"):
        return InboundEvent(
            type="meta.mention",
            platform=platform,
            account_id=account_id,
            dedupe_id=f"mention-{value['comment_id']}",
            occurred_at=at,
            data={
                "kind": EngagementKind.MENTION,
                "comment_id": str(value["comment_id"]),
                "media_id": str(value.get("media_id") or "") or None,
            },
        )
    return None


def _meta_message(platform: Platform, account_id: str, at: int, messaging: Any):
    if not isinstance(messaging, dict) or not isinstance(messaging.get("message"), dict):
        return None
    message = messaging["message"]
    if message.get("is_echo") or not message.get("mid"):
        return None  # our own replies come back as echoes
    return InboundEvent(
        type="meta.message",
        platform=platform,
        account_id=account_id,
        dedupe_id=f"message-{message['mid']}",
        occurred_at=int(messaging.get("timestamp") or at * 1000) // 1000,
        data={
            "kind": EngagementKind.MESSAGE,
            "message_id": str(message["mid"]),
            "text": str(message.get("text") or "")[:2000],
        },
    )


# TikTok Shop

TIKTOK_TYPES = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
}
TIKTOK_HANDLED = {"ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE"}


def tiktok_events(payload: Any) -> list[InboundEvent]:
    if not isinstance(payload, dict) or not payload.get("shop_id"):
        raise NotAnEvent("not a TikTok Shop webhook delivery")
    name = payload.get("event_type") or TIKTOK_TYPES.get(payload.get("type"), "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    if name not in TIKTOK_HANDLED or not data.get("order_id"):
        return []
    notification = payload.get("tts_notification_id") or entry_digest(payload)
    return [
        InboundEvent(
            type="tiktok.order_status_change",  # a cancellation is a status change too
            platform=Platform.TIKTOK,
            account_id=str(payload["shop_id"]),
            dedupe_id=str(notification),
            occurred_at=int(data.get("update_time") or payload.get("timestamp") or 0),
            data={"order_id": str(data["order_id"]), "order_status": data.get("order_status")},
        )
    ]


# X (Account Activity)


def x_events(payload: Any) -> list[InboundEvent]:
    if not isinstance(payload, dict) or not payload.get("for_user_id"):
        raise NotAnEvent("not an X account activity delivery")
    account_id = str(payload["for_user_id"])
    events = []
    for tweet in payload.get("tweet_create_events") or []:
        author = (tweet.get("user") or {}).get("id_str")
        if author == account_id or not tweet.get("id_str"):
            continue  # our own tweets and replies
        events.append(
            InboundEvent(
                type="x.mention",
                platform=Platform.X,
                account_id=account_id,
                dedupe_id=f"tweet-{tweet['id_str']}",
                occurred_at=int(tweet.get("timestamp_ms") or 0) // 1000,
                data={
                    "kind": EngagementKind.MENTION,
                    "tweet_id": tweet["id_str"],
                    "in_reply_to": tweet.get("in_reply_to_status_id_str"),
                    "text": str(tweet.get("text") or "")[:2200],
                },
            )
        )
    for message in payload.get("direct_message_events") or []:
        created = message.get("message_create") or {}
        if message.get("type") != "message_create" or created.get("sender_id") == account_id:
            continue
        events.append(
            InboundEvent(
                type="x.direct_message",
                platform=Platform.X,
                account_id=account_id,
                dedupe_id=f"dm-{message.get('id') or entry_digest(message)}",
                occurred_at=int(message.get("created_timestamp") or 0) // 1000,
                data={
                    "kind": EngagementKind.MESSAGE,
                    "message_id": str(message.get("id")),
                    "text": str((created.get("message_data") or {}).get("text") or "")[:2000],
                },
            )
        )
    return events


# Comment-to-buy


def wants_to_buy(text: str, keywords: list[str]) -> bool:
    """Whole words, any case: "Price?" and "how much" match, "priceless" does not."""
    lowered = text.casefold()
    return any(
        re.search(rf"(?<!\w){re.escape(k.casefold())}(?!\w)", lowered) for k in keywords if k
    )


def checkout_link(storefront_url: str, post_id: str, product_id: str) -> str:
    return f"{storefront_url.rstrip('/')}/posts/{post_id}?product={product_id}"


def buy_reply(title: str, link: str) -> str:
    return f"Thanks for asking! {title} is here: {link}"


# Platform orders


class PlatformLine(BaseModel):
    sku: str
    quantity: int
    unit_price: int  # minor units


class PlatformOrder(BaseModel):
    """An order as a platform reports it, parsed by the platform's adapter. `buyer` and
    `shipping_address` hold personal data on their way to the vault, and nowhere else."""

    platform: Platform
    external_id: str
    status: OrderStatus | None  # None: not an order to act on yet (unpaid, on hold)
    currency: str
    lines: list[PlatformLine]
    buyer: dict[str, Any] | None = None
    shipping_address: dict[str, Any] | None = None


TIKTOK_STATUSES: dict[str, OrderStatus | None] = {
    "UNPAID": None,
    "ON_HOLD": None,  # paid, but the buyer may still cancel; imported once it is awaited
    "AWAITING_SHIPMENT": OrderStatus.PAID,
    "PARTIALLY_SHIPPING": OrderStatus.PAID,
    "AWAITING_COLLECTION": OrderStatus.PAID,
    "IN_TRANSIT": OrderStatus.FULFILLED,
    "DELIVERED": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.DELIVERED,
    "CANCELLED": OrderStatus.CANCELLED,
}

META_STATES: dict[str, OrderStatus | None] = {
    "FB_PROCESSING": None,  # Meta is still checking the payment
    "CREATED": OrderStatus.PAID,
    "IN_PROGRESS": OrderStatus.PAID,
    "COMPLETED": OrderStatus.FULFILLED,
    "CANCELLED": OrderStatus.CANCELLED,
}

# How an imported order catches up with the platform: the steps from each of our states.
_FORWARD = [OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.DELIVERED]


def catch_up(current: OrderStatus, reported: OrderStatus) -> list[OrderStatus]:
    """The transitions that bring an order from `current` to the platform's `reported` state,
    in order; none when it is there or beyond (events arrive out of order)."""
    if reported == OrderStatus.CANCELLED:
        return [OrderStatus.CANCELLED] if current == OrderStatus.PAID else []
    if current not in _FORWARD or reported not in _FORWARD:
        return []
    here, there = _FORWARD.index(current), _FORWARD.index(reported)
    return _FORWARD[here + 1 : there + 1]


# Posts on the platforms


class PublicationStatus(StrEnum):
    QUEUED = "queued"
    PUBLISHED = "published"
    FAILED = "failed"


PUBLISHABLE = (
    Platform.INSTAGRAM,
    Platform.FACEBOOK,
    Platform.PINTEREST,
    Platform.TIKTOK,
    Platform.X,
)


class Publication(BaseModel):
    """Where a post stands on one platform."""

    status: PublicationStatus
    attempts: int = 0
    external_id: str | None = None
    url: str | None = None
    error: str | None = None
    updated_at: datetime


class Engagement(BaseModel):
    comments: int = 0
    mentions: int = 0
    messages: int = 0


def retry_delay(attempt: int, base_seconds: int) -> int:
    """Exponential backoff for attempt 1, 2, …, within SQS's 15-minute delay limit."""
    return min(base_seconds * 2 ** max(attempt - 1, 0), 900)


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platforms: list[Literal["instagram", "facebook", "pinterest", "tiktok", "x"]]


# The inbox


class InboxAuthor(BaseModel):
    token: str  # the vault's token
    handle: str  # masked


class InboxItem(BaseModel):
    object: Literal["inbox_item"] = "inbox_item"
    id: str
    merchant_id: str
    platform: Platform
    kind: EngagementKind
    external_id: str
    post_id: str | None = None
    text: str = ""
    author: InboxAuthor | None = None
    occurred_at: datetime
    reply: Literal["none", "pending", "sent", "failed"] = "none"
    reply_error: str | None = None


class InboxItemView(BaseModel):
    object: Literal["inbox_item"] = "inbox_item"
    id: str
    platform: Platform
    kind: EngagementKind
    external_id: str
    post_id: str | None
    text: str
    author: InboxAuthor | None
    occurred_at: datetime
    reply: str
    reply_error: str | None


def inbox_view(item: InboxItem) -> InboxItemView:
    return InboxItemView.model_validate(item.model_dump(exclude={"merchant_id", "object"}))
