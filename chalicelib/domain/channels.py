"""Sales channels: our products listed in each connected platform's catalog, and their stock.

A listing maps one product to one channel account (a TikTok shop, a Meta catalog, a
Pinterest account) and each of its variants to the platform's item (TikTok's SKU id, Meta's
`retailer_id` and catalog product id, Pinterest's `item_id`), with the platform's verdict on
it: `pending` (sent, not reviewed yet), `live`, or `rejected` with the platform's reason.

Stock is ordered by the variant's `stock_version`, raised by every write that changes the
variant's stock or price (checkout, payment, expiry, cancellation, restock, a merchant's
patch, a platform order). A listed variant remembers the version the platform last received
(`synced_version`); a push is recorded only if it is newer, and pushes of one variant are
serialized by a lease, so a stale quantity never overwrites a newer one on the platform.
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from .base import Model


class CatalogChannel(StrEnum):
    """The platforms that keep a catalog of ours (X has none)."""

    TIKTOK = "tiktok"
    META = "meta"  # the Commerce Manager catalog behind the Instagram and Facebook shops
    PINTEREST = "pinterest"


class ListingStatus(StrEnum):
    PENDING = "pending"
    LIVE = "live"
    REJECTED = "rejected"


class OversellPolicy(StrEnum):
    """What a platform order for stock already sold elsewhere becomes."""

    CANCEL = "cancel"  # cancelled on the platform with its out-of-stock reason
    BACKORDER = "backorder"  # accepted: its stock is owed (available goes below zero)


class ListedVariant(Model):
    variant_id: str
    sku: str
    external_id: str | None = Field(
        None, description="TikTok's SKU id, Meta's retailer_id, Pinterest's item_id"
    )
    catalog_product_id: str | None = Field(
        None, description="Meta: the catalog's product id (what Instagram product tags take)"
    )
    status: ListingStatus = ListingStatus.PENDING
    reason: str | None = None
    synced_version: int = -1
    synced_available: int | None = None
    synced_at: datetime | None = None


class ChannelListing(Model):
    product_id: str
    merchant_id: str
    channel: CatalogChannel
    account_id: str
    connection_id: str
    external_product_id: str | None = None
    status: ListingStatus = ListingStatus.PENDING
    reason: str | None = None
    batch_handle: str | None = None  # Meta's handle or Pinterest's batch id, until it settles
    variants: dict[str, ListedVariant] = {}
    last_synced_at: datetime | None = None


class ListingOutcome(Model):
    """What a platform answered to listing a product: its ids and per-item verdicts."""

    external_product_id: str | None = None
    batch_handle: str | None = None
    variants: dict[str, ListedVariant] = {}


class StockLevel(Model):
    """One variant's stock as a channel is told it."""

    variant_id: str
    external_id: str
    available: int
    version: int

    @property
    def in_stock(self) -> bool:
        return self.available > 0


class ChannelVariantView(Model):
    variant_id: str
    external_id: str | None
    catalog_product_id: str | None = None
    status: ListingStatus
    reason: str | None = None
    available: int | None = Field(None, description="what the channel was last told")
    synced_at: datetime | None = None


class ChannelView(Model):
    object: Literal["channel_listing"] = "channel_listing"
    channel: CatalogChannel
    account_id: str
    status: ListingStatus
    reason: str | None = None
    external_product_id: str | None = None
    last_synced_at: datetime | None = None
    variants: list[ChannelVariantView] = []


def overall_status(variants: dict[str, ListedVariant]) -> tuple[ListingStatus, str | None]:
    """A listing is rejected if any of its items is, live once all are, else pending."""
    rejected = [v for v in variants.values() if v.status == ListingStatus.REJECTED]
    if rejected:
        return ListingStatus.REJECTED, f"{rejected[0].sku}: {rejected[0].reason}"
    if variants and all(v.status == ListingStatus.LIVE for v in variants.values()):
        return ListingStatus.LIVE, None
    return ListingStatus.PENDING, None


def channel_view(listing: ChannelListing, variant_order: list[str]) -> ChannelView:
    ordered = [listing.variants[v] for v in variant_order if v in listing.variants]
    return ChannelView(
        channel=listing.channel,
        account_id=listing.account_id,
        status=listing.status,
        reason=listing.reason,
        external_product_id=listing.external_product_id,
        last_synced_at=listing.last_synced_at,
        variants=[
            ChannelVariantView(
                variant_id=v.variant_id,
                external_id=v.external_id,
                catalog_product_id=v.catalog_product_id,
                status=v.status,
                reason=v.reason,
                available=v.synced_available,
                synced_at=v.synced_at,
            )
            for v in ordered
        ],
    )


def stale(listed: ListedVariant, version: int) -> bool:
    """Whether the channel holds an older state of the variant than `version`."""
    return listed.external_id is not None and listed.synced_version < version


def shown_available(available: int) -> int:
    """What a channel is told: a backordered variant (below zero) is out of stock there."""
    return max(available, 0)


# What the main table's stream tells the channels


class ProductChanged(Model):
    product_id: str
    merchant_id: str
    created: bool = False


class StockChanged(Model):
    variant_id: str
    product_id: str
    merchant_id: str
    version: int


class ChannelsChanged(Model):
    """A merchant connected an account or named its Meta catalog: its products go there."""

    merchant_id: str


CatalogChange = ProductChanged | StockChanged | ChannelsChanged


def product_link(storefront_url: str, product_id: str) -> str:
    """The product's page on the storefront: the `link` of its catalog items."""
    return f"{storefront_url.rstrip('/')}/products/{product_id}"


# Reconciliation: what a channel shows against what we hold


class ChannelItemState(Model):
    """What a channel shows for one listed variant; None where it does not say."""

    in_stock: bool | None = None
    quantity: int | None = None
    price: str | None = None  # as the catalogs write it: "49.00 EUR"


class Drift(Model):
    channel: CatalogChannel
    account_id: str
    variant_id: str
    field: Literal["availability", "quantity", "price", "missing"]
    ours: str
    theirs: str | None = None


def drift_of(
    listing: ChannelListing,
    variant_id: str,
    available: int,
    price: str,
    shown: ChannelItemState | None,
) -> list[Drift]:
    """Where the channel differs from us for one variant (`available` and `price` ours)."""
    common = {"channel": listing.channel, "account_id": listing.account_id,
              "variant_id": variant_id}  # fmt: skip
    if shown is None:
        return [Drift(**common, field="missing", ours=str(shown_available(available)))]
    found = []
    ours = shown_available(available)
    if shown.in_stock is not None and shown.in_stock != (ours > 0):
        found.append(Drift(**common, field="availability", ours=_stock_word(ours > 0),
                           theirs=_stock_word(shown.in_stock)))  # fmt: skip
    if shown.quantity is not None and shown.quantity != ours:
        found.append(Drift(**common, field="quantity", ours=str(ours), theirs=str(shown.quantity)))
    if shown.price is not None and shown.price != price:
        found.append(Drift(**common, field="price", ours=price, theirs=shown.price))
    return found


def _stock_word(in_stock: bool) -> str:
    return "in stock" if in_stock else "out of stock"
