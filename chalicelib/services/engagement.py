"""Engagement: comments, mentions and messages land in the merchant's inbox and count on the
post they are about; a comment asking to buy gets the checkout link (comment-to-buy).

Who wrote is personal data: the queued event carries only the object's id, and here the
author is asked of the platform and tokenized at once; the inbox keeps the vault's token
and the masked handle. Handles held without an email are filed in the vault under a synthetic
address, `<platform user id>@<platform>.invalid` (a reserved domain nothing is delivered to),
so that the vault's blind index recognises the same person commenting again.

Each step is idempotent: the inbox item and the post's counter are written together once
(`InboxStore.add`), and the reply is sent while the item says `pending`, so a redelivery
after a failed reply tries the reply again and nothing else.
"""

from datetime import UTC, datetime

from ..domain.engagement import (
    EngagementKind,
    InboxAuthor,
    InboxItem,
    InboxItemView,
    buy_reply,
    inbox_view,
    wants_to_buy,
)
from ..domain.errors import PlatformError
from ..domain.inbound import EngagementReceived
from ..domain.posts import Post, checkout_link
from ..domain.scopes import Scope
from ..observability import logger
from ..vault.models import Caller, CustomerCreate
from .social import Social

_COUNTERS = {EngagementKind.COMMENT: "comments", EngagementKind.MENTION: "mentions"}


def _post_of(social: Social, merchant_id: str, event: EngagementReceived) -> Post | None:
    post = social.posts.for_media(event.platform, event.media_id) if event.media_id else None
    return post if post is not None and post.merchant_id == merchant_id else None


def engagement_received(social: Social, merchant_id: str, event: EngagementReceived) -> None:
    item_id = f"{event.platform}_{event.external_id}"
    post = _post_of(social, merchant_id, event)
    item = social.inbox.get(item_id)
    if event.text_ref:  # the text waited in the store, not on the queue
        text = social.inbox.stashed_text(event.text_ref)
        event = event.model_copy(update={"text": text or ""})
    if item is None:
        asks = (
            event.kind != EngagementKind.MESSAGE
            and post is not None
            and bool(post.tags)
            and wants_to_buy(event.text, social.settings.comment_keywords)
        )
        item = InboxItem(
            id=item_id,
            merchant_id=merchant_id,
            platform=event.platform,
            kind=event.kind,
            external_id=event.external_id,
            post_id=post.id if post else None,
            text=event.text,
            author=_author(social, merchant_id, event),
            occurred_at=datetime.fromtimestamp(event.occurred_at, UTC),
            reply="pending" if asks else "none",
        )
        if not social.inbox.add(item, _COUNTERS.get(event.kind)):
            item = social.inbox.get(item_id) or item
    if event.text_ref:
        social.inbox.drop_text(event.text_ref)  # the inbox holds it now
    if item.reply == "pending" and post is not None:
        _send_checkout_link(social, item, post, event)


def _author(social: Social, merchant_id: str, event: EngagementReceived) -> InboxAuthor | None:
    found = social.platforms.engagement(event.source).author_of(event)
    if found is None:
        return None
    tokenized = social.vault.identify(
        Caller.service(merchant_id, "engagement", frozenset({Scope.CUSTOMERS_WRITE})),
        CustomerCreate(
            email=f"{found.user_id}@{event.platform}.invalid",
            name=found.handle,
            social_handles={str(event.platform): found.handle},
        ),
    )
    return InboxAuthor(token=tokenized.token, handle=tokenized.masked.name)


def _send_checkout_link(
    social: Social, item: InboxItem, post: Post, event: EngagementReceived
) -> None:
    tag = post.tags[0]
    products = social.products.products([tag.product_id])
    title = products[0].title if products else "It"
    link = checkout_link(social.settings.storefront_url, post.id, tag.product_id)
    try:
        social.platforms.engagement(event.source).send_checkout_link(event, buy_reply(title, link))
    except PlatformError as error:
        if error.retryable:
            raise  # the message comes back; the item still says pending
        social.inbox.set_reply(item.id, "failed", error.message)
        logger.warning("checkout link refused", extra={"platform": error.platform})
        return
    social.inbox.set_reply(item.id, "sent")


def list_inbox(
    social: Social, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[InboxItemView], str | None]:
    found, next_cursor = social.inbox.page(merchant_id, limit, cursor)
    return [inbox_view(i) for i in found], next_cursor
