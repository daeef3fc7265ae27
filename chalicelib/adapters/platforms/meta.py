"""Meta: Instagram, Facebook Pages, Messenger and Shops, both ways, in one place.

Webhooks: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers the bare
challenge; deliveries carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
body)>`, checked on the raw bytes in constant time, and become one event per entry. The Graph
API serves engagement look-ups and replies, content publishing with product tags, and the
Shops orders that have no webhook and are pulled, then acknowledged.
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...config import Settings
from ...domain.base import Model
from ...domain.connections import Platform
from ...domain.engagement import EngagementKind, SocialAuthor
from ...domain.errors import PlatformError
from ...domain.inbound import (
    EngagementReceived,
    Handshake,
    NotAnEvent,
    PlatformEvent,
)
from ...domain.money import from_decimal_string
from ...domain.orders import OrderStatus
from ...domain.platform_orders import PlatformLine, PlatformOrder
from ...domain.posts import PostListing
from ...errors import PermissionDenied
from ...observability import logger
from .http import JsonHttp

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


def webhook_events(payload: Any) -> list[PlatformEvent]:
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise NotAnEvent("not a Meta webhook delivery")
    platform = _OBJECTS.get(payload.get("object"))  # type: ignore[arg-type]
    if platform is None:
        return []
    events: list[PlatformEvent] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        account_id = str(entry.get("id", ""))
        at = int(entry.get("time") or 0)
        for change in entry.get("changes") or []:
            event = _change(platform, account_id, at, change)
            if event is not None:
                events.append(event)
        for messaging in entry.get("messaging") or []:
            event = _message(platform, account_id, at, messaging)
            if event is not None:
                events.append(event)
    return events


def _change(platform: Platform, account_id: str, at: int, change: Any):
    if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
        return None
    field, value = change.get("field"), change["value"]
    if field in ("comments", "feed") and (value.get("id") or value.get("comment_id")):
        if field == "feed" and value.get("item") != "comment":
            return None
        comment_id = str(value.get("id") or value.get("comment_id"))
        media = value.get("media") or {}
        return EngagementReceived(
            source="meta",
            platform=platform,
            account_id=account_id,
            dedupe_id=f"comment-{comment_id}",
            occurred_at=at,
            kind=EngagementKind.COMMENT,
            external_id=comment_id,
            media_id=str(media.get("id") or value.get("post_id") or "") or None,
            parent_id=value.get("parent_id"),
            text=str(value.get("text") or value.get("message") or "")[:2200],
        )
    if field == "mentions" and value.get("comment_id"):
        return EngagementReceived(
            source="meta",
            platform=platform,
            account_id=account_id,
            dedupe_id=f"mention-{value['comment_id']}",
            occurred_at=at,
            kind=EngagementKind.MENTION,
            external_id=str(value["comment_id"]),
            media_id=str(value.get("media_id") or "") or None,
        )
    return None


def _message(platform: Platform, account_id: str, at: int, messaging: Any):
    if not isinstance(messaging, dict) or not isinstance(messaging.get("message"), dict):
        return None
    message = messaging["message"]
    if message.get("is_echo") or not message.get("mid"):
        return None  # our own replies come back as echoes
    return EngagementReceived(
        source="meta",
        platform=platform,
        account_id=account_id,
        dedupe_id=f"message-{message['mid']}",
        occurred_at=int(messaging.get("timestamp") or at * 1000) // 1000,
        kind=EngagementKind.MESSAGE,
        external_id=str(message["mid"]),
        text=str(message.get("text") or "")[:2000],
    )


def parse_order(order: dict[str, Any], platform: Platform = Platform.FACEBOOK) -> PlatformOrder:
    """A `commerce_orders` entry as a `PlatformOrder`. Prices are decimal strings in major
    units, in the item's currency."""
    items = (order.get("items") or {}).get("data") or []
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
    state = (order.get("order_status") or {}).get("state", "")
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
        self._token = settings.meta_access_token.get_secret_value()
        self.http = JsonHttp("meta", settings.meta_graph_url, settings.platform_timeout_seconds)

    # Webhooks

    def handshake(self, query: BaseModel | None) -> Handshake:
        assert isinstance(query, MetaSubscription)
        answer = hub_challenge(self._verify_token, query.mode, query.verify_token, query.challenge)
        if answer is None:
            raise PermissionDenied("The verify token does not match.", code="invalid_verify_token")
        return Handshake(answer, content_type="text/plain")

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_signature(self._app_secret, body, headers.get(SIGNATURE_HEADER))

    def events(self, payload: Any) -> list[PlatformEvent]:
        return webhook_events(payload)

    # The Graph API

    def _call(self, method: str, path: str, query=None, body=None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"}
        return self.http.request(method, path, query=query, body=body, headers=headers)

    def author_of(self, event: EngagementReceived) -> SocialAuthor | None:
        if event.kind == EngagementKind.MESSAGE:
            found = self._call("GET", f"/{event.external_id}", query={"fields": "from"})
        else:
            found = self._call(
                "GET", f"/{event.external_id}", query={"fields": "from{id,username}"}
            )
        author = found.get("from") or {}
        if not author.get("id") or not author.get("username"):
            return None
        return SocialAuthor(user_id=str(author["id"]), handle=str(author["username"]))

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
            tags = [{"product_id": t.product_id, "x": t.x, "y": t.y} for t in post.tags]
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
