"""Meta: Instagram, Facebook Pages, Messenger and Shops, both ways, in one place.

Webhooks: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers the bare
challenge; deliveries carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
body)>`, checked on the raw bytes in constant time, and become one event per entry. The Graph
API serves engagement look-ups and replies, content publishing with product tags, and the
Shops orders that have no webhook and are pulled, then acknowledged.
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
from ...domain.connections import (
    AccountAccess,
    Authorization,
    GrantedAccount,
    Platform,
    Tokens,
)
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
from .http import JsonHttp, bearer

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

    def events(self, payload: Any) -> list[PlatformEvent]:
        return webhook_events(payload)

    # The Graph API

    def _call(self, method: str, path: str, query=None, body=None) -> Any:
        if not self._token:
            raise PlatformError("meta", 0, "not acting for a connected account", retryable=False)
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
