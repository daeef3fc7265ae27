"""Pinterest's API v5: no webhooks; we push catalog items and product Pins.

A product Pin takes its product data from the page it links to (Open Graph / schema.org
markup on the storefront) and from the catalog item with the same link.
"""

from typing import Any

from ...config import Settings
from ...domain.catalog import Product, Variant
from ...domain.connections import Platform
from ...domain.money import price_label
from ...domain.posts import PostListing
from .http import JsonHttp


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
        token = settings.pinterest_access_token.get_secret_value()
        self._headers = {"Authorization": f"Bearer {token}"}
        self._board_id = settings.pinterest_board_id

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
                "board_id": self._board_id,
                "title": title[:100],
                "description": post.caption[:500],
                "link": listing.link,
                "media_source": {"source_type": "image_url", "url": post.media.url},
            },
            headers=self._headers,
        )
        return str(pin["id"])
