"""Pinterest's API v5: no webhooks; we push catalog items and product Pins.

A product Pin takes its product data from the page it links to (Open Graph / schema.org
markup on the storefront) and from the catalog item with the same link.
"""

import copy
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

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
from ...domain.connections import AccountAccess, Authorization, GrantedAccount, Platform, Tokens
from ...domain.errors import PlatformError
from ...domain.money import price_label
from ...domain.posts import PostListing
from .http import JsonHttp, basic_auth, bearer


def availability(available: int) -> str:
    return "in stock" if shown_available(available) > 0 else "out of stock"


def catalog_item(
    product: Product, variant: Variant, link: str, with_stock: bool = True
) -> dict[str, Any]:
    attributes = {
        "title": product.title,
        "description": product.description or product.title,
        "link": link,
        "image_link": list(product.images[:1]),
        "price": price_label(variant.price),
        "availability": availability(variant.available),
        "item_group_id": product.id,
    }
    if not with_stock:
        attributes.pop("availability")
        return {"item_id": variant.sku, "attributes": attributes,
                "update_mask": list(attributes)}  # fmt: skip
    return {"item_id": variant.sku, "attributes": attributes}


# A catalogs items batch's per-item `status`, and ours.
ITEM_STATUSES = {"SUCCESS": ListingStatus.LIVE, "FAILURE": ListingStatus.REJECTED}


class Pinterest:
    name = "pinterest"
    platforms = (Platform.PINTEREST,)
    receives_webhooks = False

    def __init__(self, settings: Settings):
        self.http = JsonHttp(
            "pinterest", settings.pinterest_api_url, settings.platform_timeout_seconds
        )
        self._token: str | None = None  # acting for no one until `acting_as`

    def acting_as(self, access: AccountAccess) -> "Pinterest":
        """This client acting for one merchant's Pinterest account, with its token."""
        acting = copy.copy(self)
        acting._token = access.token
        return acting

    @property
    def _headers(self) -> dict[str, str]:
        if not self._token:
            raise PlatformError("pinterest", 0, "not acting for a connected account", False)
        return bearer(self._token)

    def upsert_catalog_items(self, items: list[dict[str, Any]], country: str = "US") -> str:
        """`items`: `[{"item_id", "attributes": {...}}]`; returns the batch id to poll."""
        return self._batch("UPSERT", items, country)

    def _batch(self, operation: str, items: list[dict[str, Any]], country: str = "US") -> str:
        batch = self.http.request(
            "POST",
            "/v5/catalogs/items/batch",
            body={"country": country, "language": "EN", "operation": operation, "items": items},
            headers=self._headers,
        )
        return str(batch["batch_id"])

    # The catalog (items batches: asynchronous, polled by batch id)

    def list_product(
        self,
        account_id: str,
        product: Product,
        variants: list[Variant],
        existing: ChannelListing | None,
        link: str,
    ) -> ListingOutcome:
        """New variants are upserted with their availability; listed ones are updated
        without it (stock is written only by the ordered pushes)."""
        known = existing.variants if existing is not None else {}
        new = [catalog_item(product, v, link) for v in variants if v.id not in known]
        old = [catalog_item(product, v, link, with_stock=False) for v in variants if v.id in known]
        listed = {
            v.id: (
                known[v.id] if v.id in known else ListedVariant(variant_id=v.id, sku=v.sku)
            ).model_copy(update={"sku": v.sku, "external_id": v.sku})
            for v in variants
        }
        outcome = ListingOutcome(variants=listed)
        for operation, items in (("UPSERT", new), ("UPDATE", old)):
            if items:
                outcome = self.batch_outcome(self._batch(operation, items), outcome.variants)
        return outcome

    def batch_outcome(self, batch_id: str, listed: dict[str, ListedVariant]) -> ListingOutcome:
        """The batch's per-item verdicts; a batch still processing leaves them pending."""
        batch = self.http.request(
            "GET", f"/v5/catalogs/items/batch/{batch_id}", headers=self._headers
        )
        if batch.get("status") not in ("COMPLETED", "FAILED"):
            return ListingOutcome(batch_handle=batch_id, variants=listed)
        records = {str(r.get("item_id")): r for r in batch.get("items") or []
                   if isinstance(r, dict)}  # fmt: skip
        verdicts = {}
        for variant_id, item in listed.items():
            record = records.get(item.sku)
            if record is None:
                verdicts[variant_id] = item
                continue
            errors = [e for e in record.get("errors") or [] if isinstance(e, dict)]
            status = ITEM_STATUSES.get(str(record.get("status")), ListingStatus.PENDING)
            reason = (
                "; ".join(str(e.get("message") or e.get("code")) for e in errors) or None
                if status == ListingStatus.REJECTED else None
            )  # fmt: skip
            verdicts[variant_id] = item.model_copy(update={"status": status, "reason": reason})
        return ListingOutcome(variants=verdicts)

    def listed_state(self, listing: ChannelListing) -> dict[str, ChannelItemState]:
        """Get catalogs items by item id: availability and price."""
        item_ids = [v.external_id for v in listing.variants.values() if v.external_id]
        found = self.http.request(
            "GET",
            "/v5/catalogs/items",
            query={"item_ids": ",".join(item_ids), "country": "US", "language": "EN"},
            headers=self._headers,
        )
        items = {str(i.get("item_id")): i for i in found.get("items") or []
                 if isinstance(i, dict)}  # fmt: skip
        shown = {}
        for variant_id, listed in listing.variants.items():
            item = items.get(str(listed.external_id))
            if item is None:
                continue
            attributes = item.get("attributes") or {}
            shown[variant_id] = ChannelItemState(
                in_stock=attributes.get("availability") == "in stock"
                if attributes.get("availability")
                else None,
                price=attributes.get("price"),
            )
        return shown

    def push_stock(self, listing: ChannelListing, levels: list[StockLevel]) -> None:
        """One UPDATE batch carrying only availability (not polled)."""
        self._batch(
            "UPDATE",
            [{"item_id": level.external_id,
              "attributes": {"availability": availability(level.available)},
              "update_mask": ["availability"]}
             for level in levels],
        )  # fmt: skip

    def publish(self, platform: Platform, listing: PostListing) -> str:
        """The tagged products' variants as catalog items, then a product Pin."""
        post = listing.post
        if not listing.board_id:
            raise PlatformError(
                "pinterest", 0,
                "no board chosen for Pins: set pinterest_board_id with PATCH /v1/settings", False,
            )  # fmt: skip
        items = [
            catalog_item(product, variant, listing.link)
            for product in listing.products
            for variant in listing.variants_of(product)
        ]
        self.upsert_catalog_items(items)
        title = listing.products[0].title if listing.products else post.caption[:100]
        pin = self.http.request(
            "POST",
            "/v5/pins",
            body={
                "board_id": listing.board_id,
                "title": title[:100],
                "description": post.caption[:500],
                "link": listing.link,
                "media_source": {"source_type": "image_url", "url": post.media.url},
            },
            headers=self._headers,
        )
        return str(pin["id"])


# Connecting accounts (OAuth 2.0, API v5)
#
# `www.pinterest.com/oauth/` with our `client_id`, `redirect_uri`, `scope` (comma-separated)
# and `state`; the code is exchanged at `POST /v5/oauth/token` (form, HTTP Basic
# `app_id:app_secret`, `grant_type=authorization_code` with `code` and `redirect_uri`), and
# renewed there with `grant_type=refresh_token`. Access tokens last ~30 days, refresh tokens
# ~1 year; a continuous refresh answers a new refresh token as well.


class PinterestOAuth:
    source = "pinterest"
    uses_pkce = False

    def __init__(self, settings: Settings):
        self._app_id = settings.pinterest_app_id
        self._app_secret = settings.pinterest_app_secret.get_secret_value()
        self._authorize_url = settings.pinterest_authorize_url
        self._scopes = settings.pinterest_scopes
        self.http = JsonHttp(
            "pinterest", settings.pinterest_api_url, settings.platform_timeout_seconds
        )

    @property
    def configured(self) -> bool:
        return bool(self._app_id and self._app_secret)

    def authorize_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        params = {
            "client_id": self._app_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(self._scopes),
            "state": state,
        }
        return f"{self._authorize_url}?{urlencode(params)}"  # fmt: skip

    def _token(self, form: dict[str, str], now: datetime, previous: Tokens | None = None):
        answer = self.http.request(
            "POST", "/v5/oauth/token", form=form,
            headers=basic_auth(self._app_id, self._app_secret),
        )  # fmt: skip
        refresh = answer.get("refresh_token")
        refresh_expires = answer.get("refresh_token_expires_in")
        return Tokens(
            access_token=str(answer["access_token"]),
            access_expires_at=_after(now, answer.get("expires_in")),
            refresh_token=str(refresh) if refresh else (previous and previous.refresh_token),
            refresh_expires_at=_after(now, refresh_expires)
            if refresh
            else (previous and previous.refresh_expires_at),
        ), str(answer.get("scope") or "")

    def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None, now: datetime
    ) -> Authorization:
        tokens, scope = self._token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, now
        )
        user = self.http.request("GET", "/v5/user_account", headers=bearer(tokens.access_token))
        account_id = str(user.get("id") or user["username"])
        return Authorization(
            user_id=account_id,
            scopes=scope.replace(",", " ").split(),
            tokens=tokens,
            accounts=[
                GrantedAccount(
                    platform=Platform.PINTEREST, account_id=account_id, name=user.get("username")
                )
            ],
        )

    def refresh(self, tokens: Tokens, now: datetime) -> Tokens:
        if not tokens.refresh_token:
            raise PlatformError("pinterest", 0, "no refresh token was issued", retryable=False)
        renewed, _ = self._token(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}, now, tokens
        )
        return renewed

    def revoke(self, tokens: Tokens) -> bool:
        """Pinterest documents no token revocation for apps: shredding is ours."""
        return False


def _after(now: datetime, seconds: Any) -> datetime | None:
    return now + timedelta(seconds=int(seconds)) if seconds else None
