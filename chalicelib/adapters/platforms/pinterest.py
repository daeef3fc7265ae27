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
from ...domain.connections import AccountAccess, Authorization, GrantedAccount, Platform, Tokens
from ...domain.errors import PlatformError
from ...domain.money import price_label
from ...domain.posts import PostListing
from .http import JsonHttp, basic_auth, bearer


def catalog_item(product: Product, variant: Variant, link: str) -> dict[str, Any]:
    return {
        "item_id": variant.sku,
        "attributes": {
            "title": product.title,
            "description": product.description or product.title,
            "link": link,
            "image_link": list(product.images[:1]),
            "price": price_label(variant.price),
            "availability": "in stock" if variant.available > 0 else "out of stock",
            "item_group_id": product.id,
        },
    }


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
        batch = self.http.request(
            "POST",
            "/v5/catalogs/items/batch",
            body={"country": country, "language": "EN", "operation": "UPSERT", "items": items},
            headers=self._headers,
        )
        return str(batch["batch_id"])

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
