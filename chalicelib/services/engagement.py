"""Engagement: comments, mentions and messages land in the merchant's inbox and count on the
post they are about; a comment asking to buy gets the checkout link (comment-to-buy).

What the webhook leaves out is asked of the platform here, once, when an object is first
filed (`details_of`): who wrote it, and for mentions, which arrive as ids only, their text.
Who wrote is personal data: it is tokenized at once, and the inbox keeps the vault's token and
the masked handle or name. Handles held without an email are filed in the vault under a
synthetic address, `<platform user id>@<platform>.invalid` (a reserved domain nothing is
delivered to), so that the vault's blind index recognises the same person writing again. A
look-up the platform refuses (no consent, no permission, no such object) leaves the author
unknown, or the text empty, and the item is filed all the same. Everything the platform is
asked here, it is asked as the merchant's own connection (its token); a connection that
cannot be used (waiting to be authorized again) is a refusal like any other.

Each step is idempotent: the inbox item and the post's counter are written together once
(`InboxStore.add`), and the reply is sent while the item says `pending`, so a redelivery
after a failed reply tries the reply again and nothing else. An edit replaces the text and
keeps the item; a removal marks it removed, whichever of them arrives first.
"""

from datetime import UTC, datetime

from ..domain.connections import Connection
from ..domain.engagement import (
    EngagementDetails,
    EngagementKind,
    InboxAuthor,
    InboxItem,
    InboxItemView,
    SocialAuthor,
    inbox_item_id,
    inbox_view,
    wants_to_buy,
)
from ..domain.errors import PlatformError
from ..domain.ids import Prefix
from ..domain.inbound import EngagementAction, EngagementReceived
from ..domain.outbound import Event, EventType, InboxMessageData, new_event
from ..domain.posts import Post, checkout_link
from ..domain.scopes import Scope
from ..domain.settings import render_reply
from ..observability import logger
from ..vault.models import Caller, CustomerCreate
from .social import Social

_COUNTERS = {EngagementKind.COMMENT: "comments", EngagementKind.MENTION: "mentions"}


def _post_of(social: Social, merchant_id: str, event: EngagementReceived) -> Post | None:
    post = social.posts.for_media(event.platform, event.media_id) if event.media_id else None
    return post if post is not None and post.merchant_id == merchant_id else None


def engagement_received(social: Social, connection: Connection, event: EngagementReceived) -> None:
    merchant_id = connection.merchant_id
    item_id = inbox_item_id(event.platform, event.account_id, event.external_id)
    handled = False  # a redelivery whose stashed text was taken already
    if event.text_ref:  # the text waited in the store, not on the queue
        text = social.inbox.stashed_text(event.text_ref)
        handled = text is None
        event = event.model_copy(update={"text": text or ""})
    if event.action == EngagementAction.REMOVE:
        _removed(social, merchant_id, item_id, event)
        _drop_text(social, event)
        return
    post = _post_of(social, merchant_id, event)
    item = social.inbox.get(item_id)
    if item is not None and event.action == EngagementAction.EDIT:
        at = _time(event.occurred_at)
        attachments = event.attachments or None  # an edit without any keeps the item's
        if not handled and social.inbox.edit(item_id, event.text, attachments, at):
            logger.info("inbox item edited", extra={"item_id": item_id})
        _drop_text(social, event)
        return
    if item is None:
        item = _first_seen(social, connection, item_id, event, post)
        if not social.inbox.add(item, _COUNTERS.get(event.kind), _created(social, item)):
            item = social.inbox.get(item_id) or item
    _drop_text(social, event)  # the inbox holds it now
    if item.reply == "pending" and post is not None:
        _send_checkout_link(social, connection, item, post, event)


def _drop_text(social: Social, event: EngagementReceived) -> None:
    if event.text_ref:
        social.inbox.drop_text(event.text_ref)


def _first_seen(
    social: Social,
    connection: Connection,
    item_id: str,
    event: EngagementReceived,
    post: Post | None,
) -> InboxItem:
    """The item as first filed: the webhook's content, completed by the platform's API."""
    merchant_id = connection.merchant_id
    details = _details(social, connection, event)
    text = event.text or details.text or ""
    edited = event.action == EngagementAction.EDIT
    keywords, _ = social.merchant_settings.get(merchant_id).comment_to_buy(
        post.id if post else None
    )
    asks = (
        not edited  # an edit seen before its object is filed, never answered
        and event.kind != EngagementKind.MESSAGE
        and post is not None
        and bool(post.tags)
        and wants_to_buy(text, keywords)
    )
    occurred = details.occurred_at or event.occurred_at  # the object's own time, if known
    return InboxItem(
        id=item_id,
        merchant_id=merchant_id,
        platform=event.platform,
        account_id=event.account_id,
        kind=event.kind,
        external_id=event.external_id,
        post_id=post.id if post else None,
        text=text,
        attachments=event.attachments,
        author=_author(social, merchant_id, event, details),
        occurred_at=_time(occurred),
        edited_at=_time(event.occurred_at) if edited else None,
        reply="pending" if asks else "none",
    )


def _details(
    social: Social, connection: Connection, event: EngagementReceived
) -> EngagementDetails:
    """The platform's look-ups as the connection; a connection that cannot be used (waiting
    to be authorized again) leaves them unknown, as a refused look-up does."""
    try:
        return social.platforms.engagement(connection).details_of(event)
    except PlatformError as error:
        if error.retryable:
            raise  # the message comes back
        logger.warning("details not available", extra={"platform": error.platform})
        return EngagementDetails()


def _created(social: Social, item: InboxItem) -> Event:
    """`inbox.message.created`, written with the item (ids and the author's token only)."""
    return new_event(
        social.clock.new_id(Prefix.EVENT), EventType.INBOX_MESSAGE_CREATED, item.merchant_id,
        item.id,
        InboxMessageData(
            inbox_item_id=item.id, platform=item.platform, kind=item.kind,
            post_id=item.post_id, author_token=item.author.token if item.author else None,
        ),
        social.clock.now(),
    )  # fmt: skip


def _removed(social: Social, merchant_id: str, item_id: str, event: EngagementReceived) -> None:
    at = _time(event.occurred_at)
    item = InboxItem(
        id=item_id,
        merchant_id=merchant_id,
        platform=event.platform,
        account_id=event.account_id,
        kind=event.kind,
        external_id=event.external_id,
        occurred_at=at,
        state="removed",
        removed_at=at,
    )
    social.inbox.remove(item, _COUNTERS.get(event.kind))
    logger.info("inbox item removed", extra={"item_id": item_id})


def _author(
    social: Social, merchant_id: str, event: EngagementReceived, details: EngagementDetails
) -> InboxAuthor | None:
    found = details.author
    if found is None:
        return None
    customer = _as_customer(found, str(event.platform))
    if customer is None:
        return None
    caller = Caller.service(merchant_id, "engagement", frozenset({Scope.CUSTOMERS_WRITE}))
    tokenized = social.vault.identify(caller, customer)
    return InboxAuthor(token=tokenized.token, handle=tokenized.masked.name)


def _as_customer(author: SocialAuthor, platform: str) -> CustomerCreate | None:
    """The author as the vault files them: under their platform id (or handle, when the
    platform names them by handle only) at the reserved `.invalid` domain."""
    key = author.user_id or author.handle
    name = author.name or author.handle
    if not key or not name:
        return None
    try:
        return CustomerCreate(
            email=f"{key}@{platform}.invalid",
            name=name,
            social_handles={platform: author.handle} if author.handle else None,
        )
    except ValueError:  # an id or a name the vault does not take (never logged: personal)
        logger.warning("author not tokenized: not a valid vault entry")
        return None


def _time(seconds: int) -> datetime:
    return datetime.fromtimestamp(max(seconds, 0), UTC)


def _send_checkout_link(
    social: Social, connection: Connection, item: InboxItem, post: Post, event: EngagementReceived
) -> None:
    tag = post.tags[0]
    products = social.products.products([tag.product_id])
    title = products[0].title if products else "It"
    link = checkout_link(social.settings.storefront_url, post.id, tag.product_id)
    _, template = social.merchant_settings.get(connection.merchant_id).comment_to_buy(post.id)
    try:
        social.platforms.engagement(connection).send_checkout_link(
            event, render_reply(template, title, link)
        )
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
