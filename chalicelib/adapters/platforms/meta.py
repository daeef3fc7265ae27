"""Meta: Instagram, Facebook Pages, Messenger and Shops, both ways, in one place.

Webhooks: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers the bare
challenge; deliveries carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
body)>`, checked on the raw bytes in constant time, and become one event per entry. The Graph
API serves engagement look-ups and replies, content publishing with product tags, and the
Shops orders that have no webhook and are pulled, then acknowledged.

Fields acted on (tests/platform_samples holds Meta's published examples of each):
- Instagram `comments`: a comment (id in `id`, or `comment_id` in one of Meta's templates).
- Instagram `mentions`: ids only; the text is read with the `mentioned_comment` (comment
  form: `comment_id` + `media_id`) or `mentioned_media` (caption form: `media_id` alone)
  field of the account. Their authors: a caption's `username`; a comment's is not offered.
- Page `feed`: comments and visitor posts, by `verb`: `add` files, `edited`/`edit` replaces
  the text, `remove`/`delete` marks the item removed; other items and verbs are ignored.
- `messages` and `messaging_postbacks` (`entry[].messaging[]`): text and typed attachments,
  `is_deleted` (removed), `message_edit`, postbacks (the button's title); echoes of our own
  sends are skipped. The dashboard's "Test" sends `messages` as `changes[]` with a string
  timestamp in seconds, for entry id "0": every delivery for entry "0" is a subscription test.
Our own comments, posts and messages come back as deliveries too; they are skipped.
`entry.time` is in seconds for changes and in milliseconds for messaging.
"""

import base64
import copy
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from ...config import Settings
from ...domain.base import Model
from ...domain.catalog import Product, Variant
from ...domain.channels import (
    ChannelItemState,
    ChannelListing,
    ListedVariant,
    ListingOutcome,
    ListingStatus,
    StockLevel,
    shown_available,
)
from ...domain.connections import (
    AccountAccess,
    Authorization,
    GrantedAccount,
    Platform,
    Tokens,
)
from ...domain.engagement import (
    EngagementDetails,
    EngagementKind,
    SocialAuthor,
    attachment,
    distinct,
)
from ...domain.errors import PlatformError
from ...domain.inbound import (
    EngagementAction,
    EngagementReceived,
    Handshake,
    InboundEvent,
    NotAnEvent,
    SubscriptionTest,
    entry_digest,
)
from ...domain.money import from_decimal_string, price_label
from ...domain.orders import OrderStatus
from ...domain.platform_orders import PlatformLine, PlatformOrder
from ...domain.posts import PostListing
from ...errors import PermissionDenied
from ...observability import logger
from .http import JsonHttp, bearer, unless_refused

SIGNATURE_HEADER = "x-hub-signature-256"

# The Shops order states, and ours: None is not an order to act on yet.
ORDER_STATES: dict[str, OrderStatus | None] = {
    "FB_PROCESSING": None,  # Meta is still checking the payment
    "CREATED": OrderStatus.PAID,
    "IN_PROGRESS": OrderStatus.PAID,
    "COMPLETED": OrderStatus.FULFILLED,
    "CANCELLED": OrderStatus.CANCELLED,
}

_OBJECTS = {"instagram": Platform.INSTAGRAM, "page": Platform.FACEBOOK}

_ORDER_FIELDS = (
    "id,order_status,created,last_updated,items{id,retailer_id,quantity,price_per_unit},"
    "buyer_details{name,email},shipping_address,estimated_payment_details"
)


class MetaSubscription(Model):
    """The query of Meta's subscription check."""

    model_config = ConfigDict(extra="ignore")

    mode: str | None = Field(None, alias="hub.mode")
    verify_token: str | None = Field(None, alias="hub.verify_token")
    challenge: str | None = Field(None, alias="hub.challenge", max_length=200)


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    if not app_secret or not header:
        return False
    return hmac.compare_digest(signature(app_secret, body).encode(), header.strip().encode())


def hub_challenge(verify_token: str, mode: str | None, token: str | None, challenge: str | None):
    """The challenge to echo, or None (answer 403)."""
    if mode != "subscribe" or not verify_token or not token or challenge is None:
        return None
    return challenge if hmac.compare_digest(token.encode(), verify_token.encode()) else None


# The entry id of the App Dashboard's "Test" deliveries.
TEST_ENTRY = "0"

_VERBS = {
    "add": EngagementAction.ADD,
    "edited": EngagementAction.EDIT,
    "edit": EngagementAction.EDIT,
    "remove": EngagementAction.REMOVE,
    "delete": EngagementAction.REMOVE,
}
# Page `feed` items that are a visitor's post on the Page (filed as a mention of the Page).
_VISITOR_POSTS = {"post", "status", "photo", "video", "share"}


def webhook_events(payload: Any) -> list[InboundEvent]:
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise NotAnEvent("not a Meta webhook delivery")
    platform = _OBJECTS.get(payload.get("object"))  # type: ignore[arg-type]
    if platform is None:
        return []
    events: list[InboundEvent] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        account_id = str(entry.get("id", ""))
        at = _seconds(entry.get("time"))
        changes = [c for c in _list(entry.get("changes")) if isinstance(c, dict)]
        messaging = [m for m in _list(entry.get("messaging")) if isinstance(m, dict)]
        if account_id == TEST_ENTRY:
            fields = [str(c.get("field")) for c in changes] + ["messages"] * len(messaging)
            events += [_test(platform, field, at) for field in fields]
            continue
        for change in changes:
            event = _change(platform, account_id, at, change)
            if event is not None:
                events.append(event)
        for item in messaging:
            event = _messaging(platform, account_id, at, item)
            if event is not None:
                events.append(event)
    return events


def _test(platform: Platform, field: str, at: int) -> SubscriptionTest:
    return SubscriptionTest(
        source="meta", platform=platform, account_id=TEST_ENTRY, dedupe_id=f"test-{field}",
        occurred_at=at, field=field[:100],
    )  # fmt: skip


def _change(
    platform: Platform, account_id: str, at: int, change: dict[str, Any]
) -> EngagementReceived | None:
    field, value = change.get("field"), change.get("value")
    if not isinstance(value, dict):
        return None
    common = {"source": "meta", "platform": platform, "account_id": account_id,
              "occurred_at": at}  # fmt: skip
    if field == "comments" and (value.get("id") or value.get("comment_id")):
        comment_id = str(value.get("id") or value.get("comment_id"))
        author = _id(_dict(value.get("from")).get("id"))
        if author == account_id:
            return None  # our own reply
        media = _dict(value.get("media"))
        return EngagementReceived(
            **common, dedupe_id=f"comment-{comment_id}", kind=EngagementKind.COMMENT,
            external_id=comment_id, media_id=_id(media.get("id")),
            parent_id=_id(value.get("parent_id")), text=_text(value.get("text")),
        )  # fmt: skip
    if field == "feed":
        return _feed(common, account_id, value)
    if field == "mentions" and value.get("media_id"):
        media_id = str(value["media_id"])
        if value.get("comment_id"):  # in a comment: the text is the comment's
            comment_id = str(value["comment_id"])
            return EngagementReceived(
                **common, dedupe_id=f"mention-{comment_id}", kind=EngagementKind.MENTION,
                external_id=comment_id, media_id=media_id,
            )  # fmt: skip
        return EngagementReceived(  # in the caption of someone's media: its id stands for it
            **common, dedupe_id=f"mention-media-{media_id}", kind=EngagementKind.MENTION,
            external_id=media_id, media_id=media_id,
        )  # fmt: skip
    if field == "messages":  # the dashboard's test form of a message, on a real account
        return _messaging(platform, account_id, at, value)
    return None


def _feed(common: dict[str, Any], page_id: str, value: dict[str, Any]) -> EngagementReceived | None:
    item, action = value.get("item"), _VERBS.get(str(value.get("verb")))
    if action is None:
        return None  # hide, unhide, block, like, …
    author = _id(_dict(value.get("from")).get("id") or value.get("sender_id"))
    if author == page_id:
        return None  # the Page's own comment or post
    post_id = _id(value.get("post_id"))
    if item == "comment" and value.get("comment_id"):
        object_id, kind = str(value["comment_id"]), EngagementKind.COMMENT
        parent = _id(value.get("parent_id"))
        parent = None if parent == post_id else parent  # a top-level comment's parent: its post
    elif item in _VISITOR_POSTS and post_id:
        object_id, kind, parent = post_id, EngagementKind.MENTION, None
    else:
        return None
    dedupe = f"{item}-{object_id}"
    if action == EngagementAction.EDIT:
        dedupe += f"-edit-{entry_digest(value)}"
    elif action == EngagementAction.REMOVE:
        dedupe += "-removed"
    at = _seconds(value.get("created_time")) if action == EngagementAction.ADD else 0
    return EngagementReceived(
        **{**common, "occurred_at": at or common["occurred_at"]}, action=action,
        dedupe_id=dedupe, kind=kind, external_id=object_id, media_id=post_id,
        parent_id=parent, text=_text(value.get("message")),
    )  # fmt: skip


def _messaging(
    platform: Platform, account_id: str, at: int, item: dict[str, Any]
) -> EngagementReceived | None:
    sender = _id(_dict(item.get("sender")).get("id"))
    if sender == account_id:
        return None  # our own send, echoed
    common = {
        "source": "meta", "platform": platform, "account_id": account_id,
        "occurred_at": _seconds(item.get("timestamp")) or at, "kind": EngagementKind.MESSAGE,
        "author_id": sender,
    }  # fmt: skip
    message, edit, postback = item.get("message"), item.get("message_edit"), item.get("postback")
    if isinstance(message, dict) and message.get("mid") and not message.get("is_echo"):
        mid = str(message["mid"])
        if message.get("is_deleted"):
            return EngagementReceived(
                **common, action=EngagementAction.REMOVE, dedupe_id=f"message-{mid}-deleted",
                external_id=mid,
            )  # fmt: skip
        attachments = [
            attachment(str(a.get("type")), _dict(a.get("payload")).get("url"),
                       _dict(a.get("payload")).get("title"))
            for a in _list(message.get("attachments")) if isinstance(a, dict)
        ]  # fmt: skip
        return EngagementReceived(
            **common, dedupe_id=f"message-{mid}", external_id=mid,
            text=_text(message.get("text")), attachments=distinct(attachments)[:20],
        )  # fmt: skip
    if isinstance(edit, dict) and edit.get("mid"):
        mid = str(edit["mid"])
        return EngagementReceived(
            **common, action=EngagementAction.EDIT, external_id=mid,
            dedupe_id=f"message-{mid}-edit-{edit.get('num_edit') or entry_digest(edit)}",
            text=_text(edit.get("text")),
        )  # fmt: skip
    if isinstance(postback, dict) and (postback.get("mid") or postback.get("title")):
        mid = str(postback.get("mid") or entry_digest(item))
        return EngagementReceived(  # a button tapped: its title is what the person "said"
            **common, dedupe_id=f"postback-{mid}", external_id=mid,
            text=_text(postback.get("title")),
        )  # fmt: skip
    return None


def _seconds(value: Any) -> int:
    """Unix seconds from Meta's times: seconds (changes), milliseconds (messaging), or a
    string of seconds (the dashboard's tests)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number // 1000 if number > 100_000_000_000 else number


def _id(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and str(value) else None


def _text(value: Any, limit: int = 10_000) -> str:
    return str(value)[:limit] if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _iso_seconds(value: Any) -> int | None:
    """Graph API times ("2018-03-20T00:05:29+0000") as unix seconds."""
    try:
        return int(datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z").timestamp())
    except ValueError:
        return None


def _author(found: Any) -> SocialAuthor | None:
    """`from` (or a profile): Instagram names people by `username`, Facebook by `name`."""
    if not isinstance(found, dict) or not found.get("id"):
        return None
    handle, name = found.get("username"), found.get("name")
    if not handle and not name:
        return None
    return SocialAuthor(
        user_id=str(found["id"]),
        handle=str(handle) if handle else None,
        name=str(name) if name else None,
    )


def parse_order(order: dict[str, Any], platform: Platform = Platform.FACEBOOK) -> PlatformOrder:
    """A `commerce_orders` entry as a `PlatformOrder`. Prices are decimal strings in major
    units, in the item's currency."""
    items = _dict(order.get("items")).get("data") or []
    currency = "USD"
    lines = []
    for item in items:
        price = item.get("price_per_unit") or {}
        currency = price.get("currency") or currency
        lines.append(
            PlatformLine(
                sku=str(item.get("retailer_id")),
                quantity=int(item.get("quantity") or 1),
                unit_price=from_decimal_string(str(price.get("amount") or "0"), currency),
            )
        )
    state = _dict(order.get("order_status")).get("state", "")
    address = order.get("shipping_address") or {}
    buyer = order.get("buyer_details") or {}
    return PlatformOrder(
        platform=platform,
        external_id=str(order["id"]),
        status=ORDER_STATES.get(state),
        currency=currency,
        lines=lines,
        buyer={"email": buyer.get("email"), "name": buyer.get("name")} if buyer else None,
        shipping_address={
            "line1": address.get("street1"),
            "line2": address.get("street2") or None,
            "city": address.get("city"),
            "postal_code": address.get("postal_code"),
            "region": address.get("state") or None,
            "country": address.get("country"),
        }
        if address
        else None,
    )


# A catalog product's `review_status`, and ours.
REVIEW_STATUSES = {
    "approved": ListingStatus.LIVE,
    "pending": ListingStatus.PENDING,
    "outdated": ListingStatus.PENDING,
    "rejected": ListingStatus.REJECTED,
}


def stock_fields(available: int) -> dict[str, Any]:
    shown = shown_available(available)
    return {"availability": "in stock" if shown > 0 else "out of stock", "inventory": shown}


def catalog_item(product: Product, variant: Variant, link: str, with_stock: bool) -> dict:
    """A variant as a Catalog Batch item; prices as Meta writes them ("49.00 EUR")."""
    item: dict[str, Any] = {
        "id": variant.sku,
        "title": product.title,
        "description": product.description or product.title,
        "price": price_label(variant.price),
        "link": link,
        "image_link": product.images[0] if product.images else "",
        "item_group_id": product.id,
    }
    return {**item, **stock_fields(variant.available)} if with_stock else item


class Meta:
    name = "meta"
    platforms = (Platform.INSTAGRAM, Platform.FACEBOOK)
    receives_webhooks = True
    signature_header = "X-Hub-Signature-256"
    handshake_query: type[BaseModel] | None = MetaSubscription
    handshake_summary = "Meta's subscription check: answers hub.challenge as text/plain"
    webhook_summary = "Instagram, Facebook and Messenger events, verified by X-Hub-Signature-256"

    def __init__(self, settings: Settings):
        self._app_secret = settings.meta_app_secret.get_secret_value()
        self._verify_token = settings.meta_verify_token.get_secret_value()
        self._token: str | None = None  # acting for no one until `acting_as`
        self.http = JsonHttp("meta", settings.meta_graph_url, settings.platform_timeout_seconds)

    def acting_as(self, access: AccountAccess) -> "Meta":
        """This client acting for one merchant's account, with that account's Page token."""
        acting = copy.copy(self)
        acting._token = access.token
        return acting

    # Webhooks

    def handshake(self, query: BaseModel | None) -> Handshake:
        assert isinstance(query, MetaSubscription)
        answer = hub_challenge(self._verify_token, query.mode, query.verify_token, query.challenge)
        if answer is None:
            raise PermissionDenied("The verify token does not match.", code="invalid_verify_token")
        return Handshake(answer, content_type="text/plain")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_signature(self._app_secret, body, headers.get(SIGNATURE_HEADER))

    def events(self, payload: Any) -> list[InboundEvent]:
        return webhook_events(payload)

    # The Graph API

    def _call(self, method: str, path: str, query=None, body=None) -> Any:
        if not self._token:
            raise PlatformError("meta", 0, "not acting for a connected account", retryable=False)
        headers = {"Authorization": f"Bearer {self._token}"}
        return self.http.request(method, path, query=query, body=body, headers=headers)

    def details_of(self, event: EngagementReceived) -> EngagementDetails:
        """What the webhook leaves out, read from the object Meta documents for it: a
        comment's or a visitor post's author through the object (`from`: `username` on
        Instagram, `name` on Facebook); a mention's text through the account's
        `mentioned_comment` or `mentioned_media`; a message's sender through their profile,
        by the Instagram- or Page-scoped id. Refused look-ups leave the detail unknown."""
        if event.kind == EngagementKind.MESSAGE:
            return EngagementDetails(author=self._profile(event))
        if event.kind == EngagementKind.MENTION and event.platform == Platform.INSTAGRAM:
            if event.external_id == event.media_id:
                return self._mentioned_media(event)
            return self._mentioned_comment(event)
        fields = "from{id,username}" if event.platform == Platform.INSTAGRAM else "from{id,name}"
        found = unless_refused("meta", "author", lambda: self._call(
            "GET", f"/{event.external_id}", query={"fields": fields}))  # fmt: skip
        return EngagementDetails(author=_author(_dict(found).get("from")))

    def _profile(self, event: EngagementReceived) -> SocialAuthor | None:
        """The User Profile API: only after the person wrote to the account (their consent);
        Instagram and Messenger profiles differ (a `username` only on Instagram)."""
        if event.author_id is None:
            return None
        fields = "name,username" if event.platform == Platform.INSTAGRAM else "name"
        found = unless_refused("meta", "profile", lambda: self._call(
            "GET", f"/{event.author_id}", query={"fields": fields}))  # fmt: skip
        return _author({"id": event.author_id, **found} if found else None)

    def _mentioned_comment(self, event: EngagementReceived) -> EngagementDetails:
        expansion = f"mentioned_comment.comment_id({event.external_id}){{id,text,timestamp}}"
        found = unless_refused("meta", "mentioned_comment", lambda: self._call(
            "GET", f"/{event.account_id}", query={"fields": expansion}))  # fmt: skip
        comment = _dict(_dict(found).get("mentioned_comment"))
        return EngagementDetails(
            text=_text(comment.get("text")) or None,
            occurred_at=_iso_seconds(comment.get("timestamp")),
        )

    def _mentioned_media(self, event: EngagementReceived) -> EngagementDetails:
        expansion = (
            f"mentioned_media.media_id({event.external_id}){{caption,media_type,username,"
            "timestamp}"
        )
        found = unless_refused("meta", "mentioned_media", lambda: self._call(
            "GET", f"/{event.account_id}", query={"fields": expansion}))  # fmt: skip
        media = _dict(_dict(found).get("mentioned_media"))
        username = media.get("username")
        return EngagementDetails(
            text=_text(media.get("caption")) or None,
            author=SocialAuthor(handle=str(username)) if username else None,
            occurred_at=_iso_seconds(media.get("timestamp")),
        )

    def send_checkout_link(self, event: EngagementReceived, text: str) -> None:
        """A private reply: a direct message to the comment's author."""
        self._call(
            "POST",
            f"/{event.account_id}/messages",
            body={"recipient": {"comment_id": event.external_id}, "message": {"text": text}},
        )

    def publish(self, platform: Platform, listing: PostListing) -> str:
        if listing.account_id is None:
            raise PlatformError(str(platform), 0, f"no {platform} account connected", False)
        post = listing.post
        if platform == Platform.INSTAGRAM:
            if len(listing.catalog_product_ids) != len(post.tags):
                raise PlatformError("instagram", 0, "tags without Meta catalog products", False)
            pairs = zip(post.tags, listing.catalog_product_ids, strict=True)
            tags = [{"product_id": catalog_id, "x": t.x, "y": t.y} for t, catalog_id in pairs]
            return self._publish_instagram(listing.account_id, post.media.url, post.caption, tags)
        published = self._call(
            "POST",
            f"/{listing.account_id}/photos",
            body={"url": post.media.url, "caption": f"{post.caption}\n{listing.link}"},
        )
        return str(published.get("post_id") or published["id"])

    def _publish_instagram(
        self, ig_user_id: str, image_url: str, caption: str, product_tags: list[dict]
    ) -> str:
        """Content publishing: a media container with product tags, then publish it."""
        container = self._call(
            "POST",
            f"/{ig_user_id}/media",
            body={
                "image_url": image_url,
                "caption": caption,
                "product_tags": json.dumps(product_tags, separators=(",", ":")),
            },
        )
        published = self._call(
            "POST", f"/{ig_user_id}/media_publish", body={"creation_id": container["id"]}
        )
        return str(published["id"])

    # The Commerce Manager catalog (Catalog Batch API: asynchronous, polled by handle)

    def list_product(
        self,
        catalog_id: str,
        product: Product,
        variants: list[Variant],
        existing: ChannelListing | None,
        link: str,
    ) -> ListingOutcome:
        """Each variant as a catalog item (`retailer_id` = its SKU). A variant new to the
        catalog is sent with its stock; one listed already without it (stock is written only
        by the ordered pushes). Then the batch's status, with per-item errors, and the
        catalog product ids Instagram product tags take."""
        known = existing.variants if existing is not None else {}
        requests = [
            {"method": "UPDATE",
             "data": catalog_item(product, v, link, with_stock=v.id not in known)}
            for v in variants
        ]  # fmt: skip
        handle = self._items_batch(catalog_id, requests)
        listed = {
            v.id: (
                known[v.id] if v.id in known else ListedVariant(variant_id=v.id, sku=v.sku)
            ).model_copy(update={"sku": v.sku, "external_id": v.sku})
            for v in variants
        }
        return self.batch_outcome(catalog_id, handle, listed)

    def batch_outcome(
        self, catalog_id: str, handle: str, listed: dict[str, ListedVariant]
    ) -> ListingOutcome:
        """The verdict on each item: an item the batch refused is rejected with Meta's
        message; the others are looked up in the catalog by retailer id, for their product
        id and review status. A batch still running leaves them pending, handle kept."""
        answer = self._call(
            "GET", f"/{catalog_id}/check_batch_request_status", query={"handle": handle}
        )
        status = (_list(_dict(answer).get("data")) or [{}])[0]
        if str(status.get("status")) != "finished":
            return ListingOutcome(batch_handle=handle, variants=listed)
        errors = {str(e.get("id")): str(e.get("message") or "refused by Meta")
                  for e in _list(status.get("errors")) if isinstance(e, dict)}  # fmt: skip
        found = self._call(
            "GET",
            f"/{catalog_id}/products",
            query={
                "filter": json.dumps({"retailer_id": {"is_any": [v.sku for v in listed.values()]}}),
                "fields": "id,retailer_id,review_status",
            },
        )
        products = {str(p.get("retailer_id")): p for p in _list(_dict(found).get("data"))
                    if isinstance(p, dict)}  # fmt: skip
        verdicts: dict[str, ListedVariant] = {}
        for variant_id, item in listed.items():
            if item.sku in errors:
                verdicts[variant_id] = item.model_copy(
                    update={"status": ListingStatus.REJECTED, "reason": errors[item.sku]}
                )
                continue
            product = products.get(item.sku) or {}
            review = REVIEW_STATUSES.get(str(product.get("review_status")), ListingStatus.PENDING)
            verdicts[variant_id] = item.model_copy(
                update={
                    "catalog_product_id": _id(product.get("id")) or item.catalog_product_id,
                    "status": review,
                    "reason": "rejected by Meta's review" if review == "rejected" else None,
                }
            )
        return ListingOutcome(variants=verdicts)

    def push_stock(self, listing: ChannelListing, levels: list[StockLevel]) -> None:
        """One batch of UPDATEs carrying only availability and quantity (not polled: a
        stock update is fire and forget; reconciliation reads the catalog back)."""
        self._items_batch(
            listing.account_id,
            [{"method": "UPDATE",
              "data": {"id": level.external_id, **stock_fields(level.available)}}
             for level in levels],
        )  # fmt: skip

    def listed_state(self, listing: ChannelListing) -> dict[str, ChannelItemState]:
        """The catalog's items by retailer id: availability and quantity. Prices are left
        out: the Graph API answers them formatted for a locale, not as they were sent."""
        retailer_ids = [v.external_id for v in listing.variants.values() if v.external_id]
        found = self._call(
            "GET",
            f"/{listing.account_id}/products",
            query={
                "filter": json.dumps({"retailer_id": {"is_any": retailer_ids}}),
                "fields": "retailer_id,availability,inventory",
            },
        )
        items = {str(p.get("retailer_id")): p for p in _list(_dict(found).get("data"))
                 if isinstance(p, dict)}  # fmt: skip
        shown = {}
        for variant_id, listed in listing.variants.items():
            item = items.get(str(listed.external_id))
            if item is None:
                continue
            inventory = item.get("inventory")
            shown[variant_id] = ChannelItemState(
                in_stock=item.get("availability") == "in stock",
                quantity=int(inventory) if isinstance(inventory, int) else None,
            )
        return shown

    def _items_batch(self, catalog_id: str, requests: list[dict[str, Any]]) -> str:
        answer = self._call(
            "POST",
            f"/{catalog_id}/items_batch",
            body={"item_type": "PRODUCT_ITEM", "allow_upsert": True, "requests": requests},
        )
        handles = _list(_dict(answer).get("handles"))
        if not handles:
            raise PlatformError("meta", 200, "items_batch answered no handle", retryable=True)
        return str(handles[0])

    # Shops orders (no webhook: pulled, then acknowledged)

    def new_orders(self, cms_id: str, platform: Platform) -> list[PlatformOrder]:
        """Orders Meta has not seen acknowledged yet. One that cannot be read is left out
        (and logged): unacknowledged, it comes back with the next pull."""
        found = self._call(
            "GET", f"/{cms_id}/commerce_orders", query={"state": "CREATED", "fields": _ORDER_FIELDS}
        )
        orders = []
        for raw in found.get("data") or []:
            try:
                orders.append(parse_order(raw, platform))
            except (KeyError, TypeError, ValueError):
                logger.exception("meta order not readable", extra={"meta_order": raw.get("id")})
        return orders

    def acknowledge_order(self, order: PlatformOrder, reference: str) -> None:
        self._call(
            "POST",
            f"/{order.external_id}/acknowledge_order",
            body={
                "merchant_order_reference": reference,
                "idempotency_key": f"ack-{order.external_id}",
            },
        )


# Connecting accounts (OAuth 2.0: Facebook Login for Business), and Meta's callbacks
#
# The merchant approves our app in Facebook's dialog; the code we get back is exchanged for a
# short-lived user token, that one for a long-lived user token (~60 days, renewed by the same
# exchange), and `/me/accounts` lists the Pages granted, each with its own Page token (which
# does not expire when derived from a long-lived user token) and the Instagram business account
# linked to it. An Instagram account is reached through its Page: the Page token acts for both.

PAGE_FIELDS = "id,name,access_token,instagram_business_account{id,username}"


def _unpadded_b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_request(app_secret: str, payload: dict[str, Any]) -> str:
    """A `signed_request` as Meta makes it (for the stand-in and the tests)."""
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    digest = hmac.new(app_secret.encode(), encoded.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=") + "." + encoded


def parse_signed_request(app_secret: str, signed_request: str | None) -> dict[str, Any] | None:
    """The payload of a deauthorize or data deletion callback if our app secret signed it,
    else None. `signed_request` is `base64url(signature) + "." + base64url(payload)`; the
    signature is HMAC-SHA256, keyed with the app secret, of the payload part as sent; the
    payload is JSON with `algorithm` ("HMAC-SHA256"), `user_id` and `issued_at`."""
    if not app_secret or not signed_request or signed_request.count(".") != 1:
        return None
    encoded_signature, encoded_payload = signed_request.split(".")
    expected = hmac.new(app_secret.encode(), encoded_payload.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unpadded_b64decode(encoded_signature), expected):
            return None
        payload = json.loads(_unpadded_b64decode(encoded_payload))
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        return None
    if not isinstance(payload, dict) or str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        return None
    return payload if payload.get("user_id") else None


def _expiry(now: datetime, seconds: Any) -> datetime | None:
    return now + timedelta(seconds=int(seconds)) if seconds else None


class MetaOAuth:
    source = "meta"
    uses_pkce = False

    def __init__(self, settings: Settings):
        self._app_id = settings.meta_app_id
        self._app_secret = settings.meta_app_secret.get_secret_value()
        self._authorize_url = settings.meta_authorize_url
        self._config_id = settings.meta_login_config_id
        self._scopes = settings.meta_scopes
        self.http = JsonHttp("meta", settings.meta_graph_url, settings.platform_timeout_seconds)

    @property
    def configured(self) -> bool:
        return bool(self._app_id and self._app_secret)

    def authorize_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        params = {"client_id": self._app_id, "redirect_uri": redirect_uri, "state": state,
                  "response_type": "code"}  # fmt: skip
        if self._config_id:
            params["config_id"] = self._config_id  # Login for Business: the scopes are in it
        else:
            params["scope"] = ",".join(self._scopes)
        return f"{self._authorize_url}?{urlencode(params)}"

    def _long_lived(self, token: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.http.request(
            "GET",
            "/oauth/access_token",
            query={"grant_type": "fb_exchange_token", "client_id": self._app_id,
                   "client_secret": self._app_secret, "fb_exchange_token": token},
        )  # fmt: skip
        return answer

    def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None, now: datetime
    ) -> Authorization:
        short = self.http.request(
            "GET",
            "/oauth/access_token",
            query={"client_id": self._app_id, "redirect_uri": redirect_uri,
                   "client_secret": self._app_secret, "code": code},
        )  # fmt: skip
        long = self._long_lived(str(short["access_token"]))
        user_token = str(long["access_token"])
        me = self.http.request(
            "GET", "/me", query={"fields": "id,name"}, headers=bearer(user_token)
        )
        pages = self.http.request(
            "GET", "/me/accounts", query={"fields": PAGE_FIELDS, "limit": "100"},
            headers=bearer(user_token),
        ).get("data") or []  # fmt: skip
        accounts, page_tokens = [], {}
        for page in pages:
            if not page.get("id") or not page.get("access_token"):
                continue  # a Page the user cannot act for
            page_id = str(page["id"])
            page_tokens[page_id] = str(page["access_token"])
            accounts.append(GrantedAccount(platform=Platform.FACEBOOK, account_id=page_id,
                                           name=page.get("name")))  # fmt: skip
            instagram = page.get("instagram_business_account") or {}
            if instagram.get("id"):
                accounts.append(GrantedAccount(
                    platform=Platform.INSTAGRAM, account_id=str(instagram["id"]),
                    name=instagram.get("username"), details={"page_id": page_id},
                ))  # fmt: skip
        return Authorization(
            user_id=str(me["id"]),
            tokens=Tokens(
                access_token=user_token,
                access_expires_at=_expiry(now, long.get("expires_in")),
                account_tokens=page_tokens,
            ),
            accounts=accounts,
        )

    def refresh(self, tokens: Tokens, now: datetime) -> Tokens:
        """Exchange the long-lived user token for a new one; the Page tokens do not expire."""
        renewed = self._long_lived(tokens.access_token)
        return tokens.model_copy(update={
            "access_token": str(renewed["access_token"]),
            "access_expires_at": _expiry(now, renewed.get("expires_in")),
        })  # fmt: skip

    def revoke(self, tokens: Tokens) -> bool:
        """No revoke call here: `DELETE /{user-id}/permissions` would take the app away from
        every merchant that person connected, not just this one. Shredding is ours."""
        return False

    def signed_request_user(self, signed_request: str | None) -> str | None:
        """The Facebook user a deauthorize or data deletion callback is about, if Meta signed
        it with our app secret."""
        payload = parse_signed_request(self._app_secret, signed_request)
        return str(payload["user_id"]) if payload else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
