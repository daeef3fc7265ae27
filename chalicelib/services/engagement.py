"""Engagement: comments, mentions and messages land in the merchant's inbox and count on the
post they are about; a comment asking to buy gets the checkout link (comment-to-buy).

Who wrote is personal data: the queued event carries only the comment's id, and here the
author is fetched from the platform and tokenized at once; the inbox keeps the vault's token
and the masked handle. Handles held without an email are filed in the vault under a synthetic
address, `<platform user id>@<platform>.invalid` (a reserved domain nothing is delivered to),
so that the vault's blind index recognises the same person commenting again.

Each step is idempotent: the inbox item and the post's counter are written together once
(`InboxRepository.add`), and the reply is sent while the item says `pending`, so a redelivery
after a failed reply tries the reply again and nothing else.
"""

from ..adapters.platforms.http import PlatformError
from ..domain.merchants import Scope
from ..domain.posts import Post
from ..domain.social import (
    EngagementKind,
    InboundEvent,
    InboxAuthor,
    InboxItem,
    buy_reply,
    checkout_link,
    inbox_view,
    wants_to_buy,
)
from ..observability import logger
from ..vault.models import Caller, CustomerCreate

_COUNTERS = {EngagementKind.COMMENT: "comments", EngagementKind.MENTION: "mentions"}


def _external_id(event: InboundEvent) -> str:
    d = event.data
    return str(d.get("comment_id") or d.get("tweet_id") or d.get("message_id"))


def _post_of(rt, merchant_id: str, event: InboundEvent) -> Post | None:
    d = event.data
    media_id = d.get("media_id") if event.type.startswith("meta.") else d.get("in_reply_to")
    post = rt.posts.for_media(event.platform, media_id) if media_id else None
    return post if post is not None and post.merchant_id == merchant_id else None


def engagement_received(rt, merchant_id: str, event: InboundEvent) -> None:
    from datetime import UTC, datetime

    kind = EngagementKind(event.data["kind"])
    item_id = f"{event.platform}_{_external_id(event)}"
    post = _post_of(rt, merchant_id, event)
    item = rt.inbox.get(item_id)
    if item is None:
        asks = (
            kind != EngagementKind.MESSAGE
            and post is not None
            and bool(post.tags)
            and wants_to_buy(event.data.get("text") or "", rt.settings.comment_keywords)
        )
        item = InboxItem(
            id=item_id,
            merchant_id=merchant_id,
            platform=event.platform,
            kind=kind,
            external_id=_external_id(event),
            post_id=post.id if post else None,
            text=event.data.get("text") or "",
            author=_author(rt, merchant_id, event),
            occurred_at=datetime.fromtimestamp(event.occurred_at, UTC),
            reply="pending" if asks else "none",
        )
        if not rt.inbox.add(item, _COUNTERS.get(kind)):
            item = rt.inbox.get(item_id) or item
    if item.reply == "pending" and post is not None:
        _send_checkout_link(rt, item, post, event)


def _author(rt, merchant_id: str, event: InboundEvent) -> InboxAuthor | None:
    d = event.data
    if event.type in ("meta.comment", "meta.mention"):
        found = rt.platforms.meta.comment_author(d["comment_id"])
    elif event.type == "meta.message":
        found = rt.platforms.meta.message_sender(d["message_id"])
    elif event.type == "x.mention":
        found = rt.platforms.x.tweet_author(d["tweet_id"])
    else:
        return None
    user_id, handle = found.get("id"), found.get("username")
    if not user_id or not handle:
        return None
    tokenized = rt.vault.tokenize(
        Caller.service(merchant_id, "engagement", frozenset({Scope.CUSTOMERS_WRITE})),
        CustomerCreate(
            email=f"{user_id}@{event.platform}.invalid",
            name=handle,
            social_handles={str(event.platform): handle},
        ),
    )
    return InboxAuthor(token=tokenized.token, handle=tokenized.masked.name)


def _send_checkout_link(rt, item: InboxItem, post: Post, event: InboundEvent) -> None:
    tag = post.tags[0]
    products = rt.catalog.products([tag.product_id])
    title = products[0].title if products else "It"
    text = buy_reply(title, checkout_link(rt.settings.storefront_url, post.id, tag.product_id))
    try:
        if event.type.startswith("meta."):
            rt.platforms.meta.private_reply(event.account_id, event.data["comment_id"], text)
        else:
            rt.platforms.x.reply(event.data["tweet_id"], text)
    except PlatformError as error:
        if error.retryable:
            raise  # the message comes back; the item still says pending
        rt.inbox.set_reply(item.id, "failed", error.message)
        logger.warning("checkout link refused", extra={"platform": error.platform})
        return
    rt.inbox.set_reply(item.id, "sent")


def list_inbox(inbox, merchant_id: str, limit: int, cursor: str | None):
    found, next_cursor = inbox.page(merchant_id, limit, cursor)
    return [inbox_view(i) for i in found], next_cursor
