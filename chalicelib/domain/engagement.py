"""Engagement: comments, mentions and messages in the merchant's inbox, and comment-to-buy."""

import re
from datetime import datetime
from enum import StrEnum
from typing import Literal

from .base import Model
from .connections import Platform


class EngagementKind(StrEnum):
    COMMENT = "comment"
    MENTION = "mention"
    MESSAGE = "message"


def wants_to_buy(text: str, keywords: list[str]) -> bool:
    """Whole words, any case: "Price?" and "how much" match, "priceless" does not."""
    lowered = text.casefold()
    return any(
        re.search(rf"(?<!\w){re.escape(k.casefold())}(?!\w)", lowered) for k in keywords if k
    )


def buy_reply(title: str, link: str) -> str:
    return f"Thanks for asking! {title} is here: {link}"


class SocialAuthor(Model):
    """Who wrote, as the platform names them: personal data, on its way to the vault only."""

    user_id: str
    handle: str


class InboxAuthor(Model):
    token: str  # the vault's token
    handle: str = ""  # masked; empty once the author is erased
    erased: bool = False


class InboxItem(Model):
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


class InboxItemView(Model):
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
