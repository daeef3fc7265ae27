"""Meta's Graph API (Instagram, Facebook Pages, Messenger, Shops) and its webhook handshake.

Webhooks: `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers the bare
challenge; deliveries carry `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw
body)>`, checked on the raw bytes in constant time.
"""

import hashlib
import hmac
import json
from typing import Any

from ...domain.connections import Platform
from ...domain.social import META_STATES, PlatformLine, PlatformOrder
from .http import JsonHttp

SIGNATURE_HEADER = "x-hub-signature-256"


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


_ORDER_FIELDS = (
    "id,order_status,created,last_updated,items{id,retailer_id,quantity,price_per_unit},"
    "buyer_details{name,email},shipping_address,estimated_payment_details"
)


class MetaGraph:
    def __init__(self, base_url: str, access_token: str, timeout: float = 5.0):
        self.http = JsonHttp("meta", base_url, timeout)
        self._token = access_token

    def _call(self, method: str, path: str, query=None, body=None) -> Any:
        headers = {"Authorization": f"Bearer {self._token}"}
        return self.http.request(method, path, query=query, body=body, headers=headers)

    # Engagement

    def comment_author(self, comment_id: str) -> dict:
        """`{"id", "username"}` of a comment's author."""
        found = self._call("GET", f"/{comment_id}", query={"fields": "from{id,username}"})
        return found.get("from") or {}

    def message_sender(self, message_id: str) -> dict:
        found = self._call("GET", f"/{message_id}", query={"fields": "from"})
        return found.get("from") or {}

    def private_reply(self, account_id: str, comment_id: str, text: str) -> str:
        """A direct message to a comment's author (Instagram private replies)."""
        sent = self._call(
            "POST",
            f"/{account_id}/messages",
            body={"recipient": {"comment_id": comment_id}, "message": {"text": text}},
        )
        return str(sent.get("message_id") or "")

    def send_message(self, account_id: str, message_id: str, text: str) -> str:
        """Answer a direct message in its conversation (by the id of the message answered)."""
        sender = self.message_sender(message_id)
        sent = self._call(
            "POST",
            f"/{account_id}/messages",
            body={"recipient": {"id": sender.get("id")}, "message": {"text": text}},
        )
        return str(sent.get("message_id") or "")

    # Shops orders (no webhook: pulled, then acknowledged)

    def commerce_orders(self, cms_id: str, state: str = "CREATED") -> list[dict]:
        found = self._call(
            "GET", f"/{cms_id}/commerce_orders", query={"state": state, "fields": _ORDER_FIELDS}
        )
        return list(found.get("data") or [])

    def acknowledge_order(self, order_id: str, reference: str, idempotency_key: str) -> None:
        self._call(
            "POST",
            f"/{order_id}/acknowledge_order",
            body={"merchant_order_reference": reference, "idempotency_key": idempotency_key},
        )

    # Publishing

    def publish_instagram(
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

    def publish_page_photo(self, page_id: str, image_url: str, caption: str) -> str:
        published = self._call(
            "POST", f"/{page_id}/photos", body={"url": image_url, "caption": caption}
        )
        return str(published.get("post_id") or published["id"])


def parse_order(order: dict, platform: Platform = Platform.FACEBOOK) -> PlatformOrder:
    """A `commerce_orders` entry as a `PlatformOrder`. Prices are strings in major units."""
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
                unit_price=round(float(price.get("amount") or 0) * 100),
            )
        )
    state = (order.get("order_status") or {}).get("state", "")
    address = order.get("shipping_address") or {}
    buyer = order.get("buyer_details") or {}
    return PlatformOrder(
        platform=platform,
        external_id=str(order["id"]),
        status=META_STATES.get(state),
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
