"""Engagement: comments, mentions and messages in the merchant's inbox, and comment-to-buy.

An inbox item is one object on a platform (a comment, a mention, a direct message) as seen by
one of the merchant's accounts: its id is derived from the platform, the account and the
object's id, so two merchants whose accounts see the same tweet each get their own item, and
a repeated, edited or removed object finds its item again. Edits replace the text and keep
the id; a removal keeps the item, marked `removed`, with its text and attachments dropped.
"""

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .base import Model
from .connections import Platform


class EngagementKind(StrEnum):
    COMMENT = "comment"
    MENTION = "mention"
    MESSAGE = "message"
    NOTICE = "notice"  # from us to the merchant: a platform order refused for want of stock


class AttachmentKind(StrEnum):
    """What a message or comment carries besides text, across platforms."""

    IMAGE = "image"  # also gifs and photos
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"
    STICKER = "sticker"
    REEL = "reel"
    POST = "post"  # a shared post (Instagram `share` / `ig_post`, Messenger `post`)
    STORY = "story"
    STORY_MENTION = "story_mention"  # the merchant was mentioned in a story
    LINK = "link"  # Messenger's `fallback`: a shared link
    TEMPLATE = "template"
    OTHER = "other"


def _web_url(value: str | None) -> str | None:
    """Only http(s) links are kept; anything else (a placeholder, a script) is dropped."""
    if value is None:
        return None
    value = value.strip()
    if not value.startswith(("https://", "http://")) or any(c.isspace() for c in value):
        return None
    return value


WebUrl = Annotated[str | None, Field(max_length=2048), AfterValidator(_web_url)]


class Attachment(Model):
    kind: AttachmentKind
    url: WebUrl = None  # expires on most platforms (signed CDN links)
    title: Annotated[str, Field(max_length=500)] | None = None  # a shared post's caption


def attachment(kind: str, url: object = None, title: object = None) -> Attachment:
    """An attachment from a platform's own type name and payload values, any of them absent."""
    link = str(url)[:2048] if isinstance(url, str) else None
    return Attachment(
        kind=_ATTACHMENT_KINDS.get(kind, AttachmentKind.OTHER),
        url=_web_url(link),
        title=str(title)[:500] if isinstance(title, str) and title else None,
    )


# Each platform's attachment type names (Meta's messaging types, X's media types).
_ATTACHMENT_KINDS = {
    "image": AttachmentKind.IMAGE,
    "photo": AttachmentKind.IMAGE,
    "animated_gif": AttachmentKind.IMAGE,
    "media": AttachmentKind.IMAGE,
    "video": AttachmentKind.VIDEO,
    "audio": AttachmentKind.AUDIO,
    "file": AttachmentKind.FILE,
    "sticker": AttachmentKind.STICKER,
    "reel": AttachmentKind.REEL,
    "ig_reel": AttachmentKind.REEL,
    "share": AttachmentKind.POST,
    "ig_post": AttachmentKind.POST,
    "post": AttachmentKind.POST,
    "story": AttachmentKind.STORY,
    "ig_story": AttachmentKind.STORY,
    "story_mention": AttachmentKind.STORY_MENTION,
    "fallback": AttachmentKind.LINK,
    "template": AttachmentKind.TEMPLATE,
}


def distinct(attachments: list[Attachment]) -> list[Attachment]:
    """Instagram sends a shared post twice (legacy `share` and `ig_post`, same link): once."""
    seen: set[tuple[AttachmentKind, str | None]] = set()
    kept = []
    for item in attachments:
        key = (item.kind, item.url)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def wants_to_buy(text: str, keywords: list[str]) -> bool:
    """Whole words, any case: "Price?" and "how much" match, "priceless" does not."""
    lowered = text.casefold()
    return any(
        re.search(rf"(?<!\w){re.escape(k.casefold())}(?!\w)", lowered) for k in keywords if k
    )


def inbox_item_id(platform: str, account_id: str, external_id: str) -> str:
    """The same object seen by the same account is the same item; by another account, not."""
    digest = hashlib.sha256(f"{platform}:{account_id}:{external_id}".encode()).hexdigest()
    return "inb_" + digest[:24]


class SocialAuthor(Model):
    """Who wrote, as the platform names them: personal data, on its way to the vault only.
    Platforms give a handle (Instagram, X), a display name (Facebook, Messenger) or both; a
    caption mention names its author by handle only, without an id."""

    user_id: str | None = None
    handle: str | None = None
    name: str | None = None


class EngagementDetails(Model):
    """What the consumer learns of an object from the platform's API, beyond the webhook:
    anything the platform refused or does not offer is left None."""

    text: str | None = None
    author: SocialAuthor | None = None
    occurred_at: int | None = None  # unix seconds


class InboxAuthor(Model):
    token: str  # the vault's token
    handle: str = ""  # masked; empty once the author is erased
    erased: bool = False


class InboxItem(Model):
    object: Literal["inbox_item"] = "inbox_item"
    id: str
    merchant_id: str
    platform: Platform
    account_id: str | None = None
    kind: EngagementKind
    external_id: str
    post_id: str | None = None
    text: str = ""
    attachments: list[Attachment] = []
    author: InboxAuthor | None = None  # None: the platform did not say, or refused to
    occurred_at: datetime
    state: Literal["active", "removed"] = "active"
    edited_at: datetime | None = None
    removed_at: datetime | None = None
    reply: Literal["none", "pending", "sent", "failed"] = "none"
    reply_error: str | None = None


class InboxItemView(Model):
    object: Literal["inbox_item"] = "inbox_item"
    id: str
    platform: Platform
    account_id: str | None
    kind: EngagementKind
    external_id: str
    post_id: str | None
    text: str
    attachments: list[Attachment]
    author: InboxAuthor | None
    occurred_at: datetime
    state: str
    edited_at: datetime | None
    removed_at: datetime | None
    reply: str
    reply_error: str | None


def inbox_view(item: InboxItem) -> InboxItemView:
    return InboxItemView.model_validate(item.model_dump(exclude={"merchant_id", "object"}))
