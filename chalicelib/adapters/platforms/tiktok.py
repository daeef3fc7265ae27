"""TikTok Shop: its webhooks, its Open API (orders, products), both ways, in one place.

Webhooks: `Authorization` (no scheme) is the lowercase hex HMAC-SHA256, keyed with the app
secret, of `app_key + raw body`; there is no timestamp, so repeats are dropped on
`tts_notification_id`. API calls are signed the other way round (TikTok's "sign" query
parameter, below) and carry the shop's token in `x-tts-access-token`.

Events acted on: ORDER_STATUS_CHANGE (type 1: the order is fetched and imported or moved on)
and CANCELLATION_STATUS_CHANGE (type 11: a cancellation requested by the buyer, the seller or
the platform; a buyer's pending request is answered with the approve and reject calls below).
The others (product, return, authorization notices) are acknowledged and ignored.
"""

import copy
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel

from ...config import Settings
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
from ...domain.claims import CancellationStatus, Requester
from ...domain.connections import AccountAccess, Authorization, GrantedAccount, Platform, Tokens
from ...domain.errors import PlatformError
from ...domain.inbound import (
    AccountDeauthorized,
    CancellationChanged,
    Handshake,
    InboundEvent,
    NotAnEvent,
    OrderStatusChanged,
    entry_digest,
)
from ...domain.money import from_decimal_string, to_decimal_string
from ...domain.orders import OrderStatus
from ...domain.platform_orders import PlatformLine, PlatformOrder
from ...domain.posts import PostListing
from .http import JsonHttp

SIGNATURE_HEADER = "authorization"

# Webhook `type` numbers, for deliveries that carry no `event_type` name.
TYPES = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
}
HANDLED = {"ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE"}

# TikTok Shop's order statuses (Get Order Detail's, and the webhook's `CANCEL`), and ours:
# None is not an order to act on yet.
ORDER_STATUSES: dict[str, OrderStatus | None] = {
    "UNPAID": None,
    "ON_HOLD": None,  # paid, but the buyer may still cancel; imported once it is awaited
    "AWAITING_SHIPMENT": OrderStatus.PAID,
    "PARTIALLY_SHIPPING": OrderStatus.PAID,
    "AWAITING_COLLECTION": OrderStatus.PAID,
    "IN_TRANSIT": OrderStatus.FULFILLED,
    "DELIVERED": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.DELIVERED,
    "CANCELLED": OrderStatus.CANCELLED,
    "CANCEL": OrderStatus.CANCELLED,
}

# CANCELLATION_STATUS_CHANGE's `cancel_status` and `cancellations_role`, and ours.
CANCEL_STATUSES = {
    "CANCELLATION_REQUEST_PENDING": CancellationStatus.PENDING,
    "CANCELLATION_REQUEST_SUCCESS": CancellationStatus.APPROVED,  # by the seller or the system
    "CANCELLATION_REQUEST_CANCELLED": CancellationStatus.WITHDRAWN,  # closed by buyer or system
    "CANCELLATION_REQUEST_COMPLETE": CancellationStatus.COMPLETED,  # cancelled and refunded
}
CANCEL_ROLES: dict[str, Requester] = {"BUYER": "buyer", "SELLER": "seller", "SYSTEM": "platform"}

# Cancel Order's reason when the seller has no stock left (TikTok's documented reason list).
OUT_OF_STOCK_REASON = "seller_cancel_reason_out_of_stock"
ALREADY_CANCELLED_CODES = (25001011,)  # the order is cancelled or cancelling already

# Error codes worth trying again (TikTok answers errors as a non-zero `code` in a 200 body).
RETRYABLE_CODES = {36009003}  # internal error


def signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def verify_signature(app_key: str, app_secret: str, body: bytes, header: str | None) -> bool:
    if not app_key or not app_secret or not header:
        return False
    expected = signature(app_key, app_secret, body)
    return hmac.compare_digest(expected.encode(), header.strip().encode())


def request_sign(app_secret: str, path: str, query: dict[str, Any], body: bytes) -> str:
    """TikTok's API signature: parameters but `sign` and `access_token`, sorted, as
    `key+value` after the path, then the body, wrapped in the secret, HMAC-SHA256'd."""
    params = "".join(f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token"))
    wrapped = f"{app_secret}{path}{params}".encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), wrapped, hashlib.sha256).hexdigest()


def webhook_events(payload: Any) -> list[InboundEvent]:
    if not isinstance(payload, dict) or not payload.get("shop_id"):
        raise NotAnEvent("not a TikTok Shop webhook delivery")
    name = payload.get("event_type") or TYPES.get(payload.get("type"), "")  # type: ignore[arg-type]
    data: dict[str, Any] = payload["data"] if isinstance(payload.get("data"), dict) else {}
    if name not in HANDLED or not data.get("order_id"):
        return []
    common = {
        "source": "tiktok",
        "platform": Platform.TIKTOK,
        "account_id": str(payload["shop_id"]),
        "dedupe_id": str(payload.get("tts_notification_id") or entry_digest(payload)),
        "order_id": str(data["order_id"]),
    }
    if name == "CANCELLATION_STATUS_CHANGE":
        status = CANCEL_STATUSES.get(str(data.get("cancel_status")))
        if status is None or not data.get("cancel_id"):
            return []
        return [
            CancellationChanged(
                **common,
                occurred_at=_seconds(data.get("update_time") or payload.get("timestamp")),
                cancel_id=str(data["cancel_id"]),
                status=status,
                requested_by=CANCEL_ROLES.get(str(data.get("cancellations_role"))),
                requested_at=_seconds(data.get("create_time")) or None,
            )
        ]
    return [
        OrderStatusChanged(
            **common,
            occurred_at=_seconds(data.get("update_time") or payload.get("timestamp")),
            status=data.get("order_status"),
        )
    ]


def _seconds(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def parse_order(order: dict[str, Any]) -> PlatformOrder:
    """TikTok lists one line item per unit: they are counted back into lines per SKU."""
    items = order.get("line_items") or []
    counts = Counter(str(i.get("seller_sku")) for i in items)
    prices = {str(i.get("seller_sku")): i.get("sale_price") or "0" for i in items}
    payment = order.get("payment") or {}
    currency = payment.get("currency") or "USD"
    address = order.get("recipient_address") or {}
    districts = {d.get("address_level_name"): d.get("address_name") for d in
                 address.get("district_info") or []}  # fmt: skip
    return PlatformOrder(
        platform=Platform.TIKTOK,
        external_id=str(order["id"]),
        status=ORDER_STATUSES.get(str(order.get("status"))),
        currency=currency,
        lines=[
            PlatformLine(
                sku=sku, quantity=n, unit_price=from_decimal_string(str(prices[sku]), currency)
            )
            for sku, n in counts.items()
        ],
        buyer={
            "email": order.get("buyer_email"),
            "name": address.get("name"),
            "phone": address.get("phone_number"),
        },
        shipping_address={
            "line1": address.get("address_line1") or address.get("address_detail"),
            "line2": address.get("address_line2") or None,
            "city": districts.get("City") or districts.get("County") or address.get("city"),
            "postal_code": address.get("postal_code"),
            "region": districts.get("State") or None,
            "country": address.get("region_code"),
        }
        if address
        else None,
    )


def product_payload(listing: PostListing) -> list[dict[str, Any]]:
    """The tagged products as TikTok Shop products, prices as decimal strings."""
    return [catalog_product(p, listing.variants_of(p)) for p in listing.products]


def _price(variant: Variant) -> dict[str, str]:
    return {
        "amount": to_decimal_string(variant.price.amount, variant.price.currency),
        "currency": variant.price.currency,
    }


def catalog_product(
    product: Product, variants: list[Variant], warehouse_id: str | None = None
) -> dict[str, Any]:
    """A product as Create Product takes it, with each SKU's stock (in the shop's warehouse
    where it is known)."""
    place = {"warehouse_id": warehouse_id} if warehouse_id else {}
    return {
        "title": product.title,
        "description": product.description or product.title,
        "main_images": [{"uri": url} for url in product.images[:9]],
        "skus": [
            {
                "seller_sku": v.sku,
                "price": _price(v),
                "inventory": [{**place, "quantity": shown_available(v.available)}],
            }
            for v in variants
        ],
    }


def product_edit(product: Product, listed: list[tuple[Variant, str]]) -> dict[str, Any]:
    """Partial Edit Product: title, description and prices; never the stock, which only the
    ordered stock pushes write."""
    return {
        "title": product.title,
        "description": product.description or product.title,
        "skus": [{"id": sku_id, "seller_sku": v.sku, "price": _price(v)} for v, sku_id in listed],
    }


def inventory_update(levels: list[StockLevel], warehouse_id: str | None) -> dict[str, Any]:
    """Update Inventory's body: each SKU's quantity, in the shop's warehouse where known."""
    place = {"warehouse_id": warehouse_id} if warehouse_id else {}
    return {
        "skus": [
            {"id": level.external_id,
             "inventory": [{**place, "quantity": shown_available(level.available)}]}
            for level in levels
        ]
    }  # fmt: skip


class TikTokShop:
    name = "tiktok"
    platforms = (Platform.TIKTOK,)
    receives_webhooks = True
    signature_header = "Authorization"
    handshake_query: type[BaseModel] | None = None
    handshake_summary = "TikTok Shop webhook endpoint check"
    webhook_summary = "TikTok Shop events, verified by their Authorization header"

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time):
        self._app_key = settings.tiktok_app_key.get_secret_value()
        self._app_secret = settings.tiktok_app_secret.get_secret_value()
        self._token: str | None = None  # acting for no shop until `acting_as`
        self._shop_cipher: str | None = None
        self.http = JsonHttp("tiktok", settings.tiktok_api_url, settings.platform_timeout_seconds)
        self._clock = clock

    def acting_as(self, access: AccountAccess) -> "TikTokShop":
        """This client acting for one merchant's shop: its seller's token and the shop's
        cipher, which every shop API call carries."""
        acting = copy.copy(self)
        acting._token = access.token
        acting._shop_cipher = access.details.get("shop_cipher")
        return acting

    # Webhooks

    def handshake(self, query: BaseModel | None) -> Handshake:
        return Handshake({"ready": True})

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_signature(
            self._app_key, self._app_secret, body, headers.get(SIGNATURE_HEADER)
        )

    def events(self, payload: Any) -> list[InboundEvent]:
        return deauthorization_events(payload) or webhook_events(payload)

    # The Open API

    def _call(self, method: str, path: str, query: dict | None = None, body: Any = None) -> dict:
        if not self._token:
            raise PlatformError("tiktok", 0, "not acting for a connected shop", retryable=False)
        params = {"app_key": self._app_key, "timestamp": str(int(self._clock())), **(query or {})}
        if self._shop_cipher and not path.startswith("/authorization/"):
            params["shop_cipher"] = self._shop_cipher
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        params["sign"] = request_sign(self._app_secret, path, params, raw)
        answer = self.http.request(
            method,
            path,
            query=params,
            body=raw if body is not None else None,
            headers={"x-tts-access-token": self._token, "Content-Type": "application/json"},
        )
        code = answer.get("code", 0)
        if code != 0:  # TikTok reports errors in the body of a 200
            message = f"{answer.get('message')} ({code})"
            raise PlatformError("tiktok", 200, message, retryable=code in RETRYABLE_CODES)
        return answer.get("data") or {}

    def order(self, order_id: str) -> PlatformOrder:
        found = self._call("GET", "/order/202309/orders", query={"ids": order_id})
        orders = found.get("orders") or []
        if not orders:
            raise PlatformError("tiktok", 404, f"no order {order_id}", retryable=True)
        return parse_order(orders[0])

    # A buyer's cancellation request, answered. Both calls take TikTok's `idempotency_key`,
    # so an answer sent twice (a retried request) is applied once.

    def approve_cancellation(self, cancel_id: str, idempotency_key: str) -> None:
        self._call(
            "POST",
            f"/return_refund/202309/cancellations/{cancel_id}/approve",
            query={"idempotency_key": idempotency_key[:255]},
            body={},
        )

    def reject_cancellation(
        self, cancel_id: str, reason: str, comment: str | None, idempotency_key: str
    ) -> None:
        body = {"reject_reason": reason, **({"comment": comment} if comment else {})}
        self._call(
            "POST",
            f"/return_refund/202309/cancellations/{cancel_id}/reject",
            query={"idempotency_key": idempotency_key[:255]},
            body=body,
        )

    # Catalog and stock (the shop's products; stock per SKU and warehouse)

    def list_product(
        self,
        account_id: str,
        product: Product,
        variants: list[Variant],
        existing: ChannelListing | None,
        link: str,
    ) -> ListingOutcome:
        """Create the product with its SKUs and their stock, or, listed already, edit its
        title, description and prices (Partial Edit: the stock is left to `push_stock`).
        TikTok answers the product's and each SKU's ids at once."""
        if existing is not None and existing.external_product_id:
            listed = [
                (v, existing.variants[v.id].external_id)
                for v in variants
                if v.id in existing.variants and existing.variants[v.id].external_id
            ]
            self._call(
                "POST",
                f"/product/202309/products/{existing.external_product_id}/partial_edit",
                body=product_edit(product, [(v, str(sku)) for v, sku in listed]),
            )  # fmt: skip
            return ListingOutcome(
                external_product_id=existing.external_product_id,
                variants={v.id: existing.variants[v.id].model_copy(update={"sku": v.sku})
                          for v, _ in listed},
            )  # fmt: skip
        created = self._call(
            "POST", "/product/202309/products", body=catalog_product(product, variants)
        )
        sku_ids = {str(s.get("seller_sku")): str(s["id"]) for s in created.get("skus") or []
                   if s.get("id")}  # fmt: skip
        return ListingOutcome(
            external_product_id=str(created["product_id"]),
            variants={
                v.id: ListedVariant(
                    variant_id=v.id, sku=v.sku, external_id=sku_ids.get(v.sku),
                    status=ListingStatus.LIVE if v.sku in sku_ids else ListingStatus.REJECTED,
                    reason=None if v.sku in sku_ids else "TikTok Shop answered no SKU id",
                )
                for v in variants
            },
        )  # fmt: skip

    def push_stock(self, listing: ChannelListing, levels: list[StockLevel]) -> None:
        """One Update Inventory call for the product's SKUs that changed."""
        self._call(
            "POST",
            f"/product/202309/products/{listing.external_product_id}/inventory/update",
            body=inventory_update(levels, None),
        )

    def listed_state(self, listing: ChannelListing) -> dict[str, ChannelItemState]:
        """Get Product: each listed SKU's quantity (over its warehouses) and price."""
        found = self._call("GET", f"/product/202309/products/{listing.external_product_id}")
        skus = {str(s.get("id")): s for s in found.get("skus") or [] if isinstance(s, dict)}
        shown = {}
        for variant_id, listed in listing.variants.items():
            sku = skus.get(str(listed.external_id))
            if sku is None:
                continue
            quantity = sum(int(i.get("quantity") or 0) for i in sku.get("inventory") or [])
            price = sku.get("price") or {}
            shown[variant_id] = ChannelItemState(
                in_stock=quantity > 0,
                quantity=quantity,
                price=f"{price['amount']} {price['currency']}" if price.get("amount") else None,
            )
        return shown

    def cancel_out_of_stock(self, order_id: str, skus: list[str]) -> None:
        """The seller cancels the order (Return & Refund API, Cancel Order) for want of
        stock; an order cancelled already counts as done."""
        try:
            self._call(
                "POST",
                "/return_refund/202309/cancellations",
                body={"order_id": order_id, "cancel_reason": OUT_OF_STOCK_REASON},
            )
        except PlatformError as error:
            if not any(str(code) in error.message for code in ALREADY_CANCELLED_CODES):
                raise

    def publish(self, platform: Platform, listing: PostListing) -> str:
        """The tagged products as TikTok Shop products; the first one's id stands for the
        post."""
        ids = [
            str(self._call("POST", "/product/202309/products", body=product)["product_id"])
            for product in product_payload(listing)
        ]
        return ids[0] if ids else ""


# Connecting shops (TikTok Shop Partner API authorization)
#
# The seller authorizes our service at `services.tiktokshop.com/open/authorize?service_id=…`;
# TikTok redirects to the URL registered for the app with `code` and our `state`. The code is
# exchanged at `auth.tiktok-shops.com/api/v2/token/get`; the answer's `*_expire_in` fields are
# the Unix times the tokens expire at, and a non-zero `code` is an error (on HTTP 200). The
# shops the seller authorized, with the `cipher` each shop call carries, come from
# `GET /authorization/202309/shops`, signed like every Open API call.


def deauthorization_events(payload: Any) -> list[InboundEvent]:
    """SELLER_DEAUTHORIZATION: the seller took our access away; the shop's connection goes."""
    if not isinstance(payload, dict) or not payload.get("shop_id"):
        return []
    name = payload.get("event_type") or TYPES.get(payload.get("type"), "")  # type: ignore[arg-type]
    if name != "SELLER_DEAUTHORIZATION":
        return []
    notification = payload.get("tts_notification_id") or entry_digest(payload)
    return [
        AccountDeauthorized(
            source="tiktok",
            platform=Platform.TIKTOK,
            account_id=str(payload["shop_id"]),
            dedupe_id=str(notification),
            occurred_at=_seconds(payload.get("timestamp")),
        )
    ]


def _unix(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


class TikTokShopOAuth:
    source = "tiktok"
    uses_pkce = False

    def __init__(self, settings: Settings):
        self._settings = settings
        self._app_key = settings.tiktok_app_key.get_secret_value()
        self._app_secret = settings.tiktok_app_secret.get_secret_value()
        self._service_id = settings.tiktok_service_id
        self._authorize_url = settings.tiktok_authorize_url
        self.http = JsonHttp("tiktok", settings.tiktok_auth_url, settings.platform_timeout_seconds)

    @property
    def configured(self) -> bool:
        return bool(self._app_key and self._app_secret and self._service_id)

    def authorize_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        """The redirect URI is the one registered for the app in Partner Center."""
        return (
            f"{self._authorize_url}?{urlencode({'service_id': self._service_id, 'state': state})}"
        )

    def _token(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        params = {"app_key": self._app_key, "app_secret": self._app_secret, **query}
        answer = self.http.request("GET", path, query=params)
        if answer.get("code", 0) != 0:  # errors come in the body of a 200
            raise PlatformError("tiktok", 200, str(answer.get("message")), retryable=False)
        data: dict[str, Any] = answer.get("data") or {}
        return data

    @staticmethod
    def _tokens(data: dict[str, Any]) -> Tokens:
        return Tokens(
            access_token=str(data["access_token"]),
            access_expires_at=_unix(data.get("access_token_expire_in")),
            refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
            refresh_expires_at=_unix(data.get("refresh_token_expire_in")),
        )

    def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None, now: datetime
    ) -> Authorization:
        data = self._token(
            "/api/v2/token/get", {"auth_code": code, "grant_type": "authorized_code"}
        )
        tokens = self._tokens(data)
        seller = TikTokShop(self._settings).acting_as(AccountAccess("", tokens.access_token))
        shops = seller._call("GET", "/authorization/202309/shops").get("shops") or []
        scopes = data.get("granted_scopes") or []
        return Authorization(
            user_id=str(data.get("open_id") or ""),
            scopes=[str(s) for s in scopes] if isinstance(scopes, list) else [],
            tokens=tokens,
            accounts=[
                GrantedAccount(
                    platform=Platform.TIKTOK,
                    account_id=str(shop["id"]),
                    name=shop.get("name"),
                    details={
                        "shop_cipher": str(shop.get("cipher") or ""),
                        "region": str(shop.get("region") or ""),
                    },
                )
                for shop in shops
                if shop.get("id")
            ],
        )

    def refresh(self, tokens: Tokens, now: datetime) -> Tokens:
        if not tokens.refresh_token:
            raise PlatformError("tiktok", 0, "no refresh token was issued", retryable=False)
        data = self._token(
            "/api/v2/token/refresh",
            {"refresh_token": tokens.refresh_token, "grant_type": "refresh_token"},
        )
        return self._tokens(data)

    def revoke(self, tokens: Tokens) -> bool:
        """TikTok Shop has no token revocation call: the seller deauthorizes in Seller
        Center (and we hear of it by SELLER_DEAUTHORIZATION). Shredding is ours."""
        return False
