"""Pinterest's API v5: no webhooks; we push catalog items and product Pins.

A product Pin takes its product data from the page it links to (Open Graph / schema.org
markup on the storefront) and from the catalog item with the same link.
"""

from .http import JsonHttp


class Pinterest:
    def __init__(self, base_url: str, access_token: str, timeout: float = 5.0):
        self.http = JsonHttp("pinterest", base_url, timeout)
        self._headers = {"Authorization": f"Bearer {access_token}"}

    def upsert_catalog_items(self, items: list[dict], country: str = "US") -> str:
        """`items`: `[{"item_id", "attributes": {...}}]`; returns the batch id to poll."""
        batch = self.http.request(
            "POST",
            "/v5/catalogs/items/batch",
            body={"country": country, "language": "EN", "operation": "UPSERT", "items": items},
            headers=self._headers,
        )
        return str(batch["batch_id"])

    def create_pin(
        self, board_id: str, title: str, description: str, link: str, image_url: str
    ) -> str:
        pin = self.http.request(
            "POST",
            "/v5/pins",
            body={
                "board_id": board_id,
                "title": title[:100],
                "description": description[:500],
                "link": link,
                "media_source": {"source_type": "image_url", "url": image_url},
            },
            headers=self._headers,
        )
        return str(pin["id"])
