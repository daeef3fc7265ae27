"""A merchant's own settings: comment-to-buy (keywords and reply, with per-post overrides),
the Pinterest board its Pins go to, the Meta commerce account its Shops orders come from, the
Meta catalog its products are listed in, what a platform order for stock already sold
elsewhere becomes (`platform_oversell`: cancel it on the platform, or accept a backorder),
and (stored apart, see domain/merchants.py) the limits on anonymous checkouts.

They used to be one global setting of the operator's; every merchant now has its own, with
the old defaults until it changes them (`PATCH /v1/settings`).
"""

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from .base import Model
from .channels import OversellPolicy
from .merchants import CheckoutSettings

DEFAULT_KEYWORDS = ("buy", "price", "how much", "link", "want")
DEFAULT_REPLY_TEMPLATE = "Thanks for asking! {title} is here: {link}"
MAX_POST_OVERRIDES = 100

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_ALLOWED = {"{title}", "{link}"}


def _template(value: str) -> str:
    unknown = sorted(set(_PLACEHOLDER.findall(value)) - _ALLOWED)
    if unknown:
        raise ValueError(f"unknown placeholder {unknown[0]}: use {{title}} and {{link}}")
    if "{link}" not in value:
        raise ValueError("the reply must contain {link}, the checkout link")
    return value


Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Keywords = Annotated[list[Keyword], Field(min_length=1, max_length=20)]
ReplyTemplate = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(_template),
]
ExternalId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


def render_reply(template: str, title: str, link: str) -> str:
    """The reply to a comment asking to buy. Plain replacement, never `str.format`: a
    merchant's template cannot reach anything but the title and the link."""
    return template.replace("{title}", title).replace("{link}", link)


class CommentToBuy(Model):
    """A post's own comment-to-buy, over the merchant's: what it leaves out is inherited."""

    model_config = ConfigDict(extra="forbid")

    comment_keywords: Keywords | None = None
    reply_template: ReplyTemplate | None = None


class MerchantSettings(Model):
    model_config = ConfigDict(extra="forbid")

    object: Literal["settings"] = "settings"
    comment_keywords: list[str] = list(DEFAULT_KEYWORDS)
    reply_template: str = DEFAULT_REPLY_TEMPLATE
    pinterest_board_id: str | None = None
    meta_commerce_account_id: str | None = None
    meta_catalog_id: str | None = None
    platform_oversell: OversellPolicy = OversellPolicy.CANCEL
    posts: dict[str, CommentToBuy] = {}
    updated_at: datetime | None = None

    def comment_to_buy(self, post_id: str | None) -> tuple[list[str], str]:
        """The keywords and reply template that apply to comments on `post_id`."""
        override = self.posts.get(post_id) if post_id else None
        keywords = (override and override.comment_keywords) or self.comment_keywords
        template = (override and override.reply_template) or self.reply_template
        return list(keywords), template


class SettingsView(MerchantSettings):
    """`GET /v1/settings`: the settings above and the checkout limits, which are kept in an
    item of their own because every checkout reads them."""

    checkout: CheckoutSettings = CheckoutSettings()


class SettingsUpdate(Model):
    """`PATCH /v1/settings`: only the fields sent change. `null` clears the board, the
    commerce account, or a post's override (`"posts": {"post_…": null}`)."""

    model_config = ConfigDict(extra="forbid")

    comment_keywords: Keywords | None = None
    reply_template: ReplyTemplate | None = None
    pinterest_board_id: ExternalId | None = None
    meta_commerce_account_id: ExternalId | None = None
    meta_catalog_id: ExternalId | None = None
    platform_oversell: OversellPolicy | None = None
    posts: Annotated[dict[ExternalId, CommentToBuy | None], Field(max_length=50)] | None = None
    checkout: CheckoutSettings | None = Field(
        None,
        description="Limits on anonymous checkouts: only the fields sent change; null "
        "removes a limit.",
    )


def updated(current: MerchantSettings, update: SettingsUpdate, now: datetime) -> MerchantSettings:
    """The settings with the update applied (a post's override is checked by the caller)."""
    sent = update.model_fields_set
    changes: dict[str, object] = {"updated_at": now}
    for name in ("comment_keywords", "reply_template", "platform_oversell"):
        if name in sent and getattr(update, name) is not None:
            changes[name] = getattr(update, name)
    for name in ("pinterest_board_id", "meta_commerce_account_id", "meta_catalog_id"):
        if name in sent:
            changes[name] = getattr(update, name)
    if "posts" in sent and update.posts is not None:
        posts = dict(current.posts)
        for post_id, override in update.posts.items():
            if override is None or override.model_fields_set == set():
                posts.pop(post_id, None)
            else:
                posts[post_id] = override
        changes["posts"] = posts
    return current.model_copy(update=changes)
