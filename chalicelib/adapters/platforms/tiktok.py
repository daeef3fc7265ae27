"""TikTok Shop's Open API (orders, products) and its webhook signature.

Webhooks: `Authorization` (no scheme) is the lowercase hex HMAC-SHA256, keyed with the app
secret, of `app_key + raw body`. API calls are signed the other way round (TikTok's
"sign" query parameter, below) and carry the shop's token in `x-tts-access-token`.
"""

import hashlib
import hmac
import json
import time
from collections import Counter
from typing import Any

from ...domain.connections import Platform
from ...domain.social import TIKTOK_STATUSES, PlatformLine, PlatformOrder
from .http import JsonHttp, PlatformError

SIGNATURE_HEADER = "authorization"


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


class TikTokShop:
    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        timeout: float = 5.0,
        clock=time.time,
    ):
        self.http = JsonHttp("tiktok", base_url, timeout)
        self._app_key, self._app_secret, self._token = app_key, app_secret, access_token
        self._clock = clock

    def _call(self, method: str, path: str, query: dict | None = None, body: Any = None) -> dict:
        params = {"app_key": self._app_key, "timestamp": str(int(self._clock())), **(query or {})}
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        params["sign"] = request_sign(self._app_secret, path, params, raw)
        answer = self.http.request(
            method,
            path,
            query=params,
            body=raw if body is not None else None,
            headers={"x-tts-access-token": self._token, "Content-Type": "application/json"},
        )
        if answer.get("code", 0) != 0:  # TikTok reports errors in the body of a 200
            raise PlatformError("tiktok", 200, str(answer.get("message")), retryable=False)
        return answer.get("data") or {}

    def order(self, order_id: str) -> dict:
        found = self._call("GET", "/order/202309/orders", query={"ids": order_id})
        orders = found.get("orders") or []
        if not orders:
            raise PlatformError("tiktok", 404, f"no order {order_id}", retryable=True)
        return orders[0]

    def create_product(self, product: dict) -> str:
        created = self._call("POST", "/product/202309/products", body=product)
        return str(created["product_id"])


def parse_order(order: dict) -> PlatformOrder:
    """TikTok lists one line item per unit: they are counted back into lines per SKU."""
    items = order.get("line_items") or []
    counts = Counter(str(i.get("seller_sku")) for i in items)
    prices = {str(i.get("seller_sku")): i.get("sale_price") or "0" for i in items}
    payment = order.get("payment") or {}
    address = order.get("recipient_address") or {}
    districts = {d.get("address_level_name"): d.get("address_name") for d in
                 address.get("district_info") or []}  # fmt: skip
    return PlatformOrder(
        platform=Platform.TIKTOK,
        external_id=str(order["id"]),
        status=TIKTOK_STATUSES.get(str(order.get("status"))),
        currency=payment.get("currency") or "USD",
        lines=[
            PlatformLine(sku=sku, quantity=n, unit_price=round(float(prices[sku]) * 100))
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
