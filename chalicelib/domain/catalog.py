"""Catalog: products, their variants and each variant's inventory."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from .base import Model
from .channels import ChannelView
from .fields import HttpsUrl, ObjectId, Title
from .money import Money

# One product and its variants are written in one DynamoDB transaction (100 items at most).
MAX_VARIANTS = 50
MAX_ON_HAND = 1_000_000_000

Sku = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$")]
OptionName = Annotated[str, Field(min_length=1, max_length=40)]
OptionValue = Annotated[str, Field(min_length=1, max_length=100)]
Options = Annotated[dict[OptionName, OptionValue], Field(max_length=10)]


class InventoryInput(Model):
    model_config = ConfigDict(extra="forbid")

    on_hand: int = Field(ge=0, le=MAX_ON_HAND)
    low_stock_threshold: int | None = Field(
        None, ge=1, le=MAX_ON_HAND, description="`inventory.low` when available falls below it"
    )


FREE_DESCRIPTION = (
    "Must be true for a price of 0, and only then: a zero price is given away on purpose, "
    "never by a slip."
)


def check_price(price: Money, free: bool) -> None:
    """A variant priced 0 gives stock away to anyone who checks out: only when meant."""
    if price.amount == 0 and not free:
        raise ValueError('a price of 0 needs "free": true')
    if free and price.amount != 0:
        raise ValueError('"free": true needs a price of 0')


class VariantCreate(Model):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    price: Money
    free: bool = Field(False, description=FREE_DESCRIPTION)
    options: Options = {}
    inventory: InventoryInput = Field(default_factory=lambda: InventoryInput(on_hand=0))

    @model_validator(mode="after")
    def _zero_price_is_meant(self) -> "VariantCreate":
        check_price(self.price, self.free)
        return self


class VariantPatch(Model):
    """With `id`, changes that variant; without, adds a new one (then `sku` and `price` are due)."""

    model_config = ConfigDict(extra="forbid")

    id: ObjectId | None = None
    sku: Sku | None = None
    price: Money | None = None
    free: bool | None = Field(None, description=FREE_DESCRIPTION)
    options: Options | None = None
    inventory: InventoryInput | None = None

    @model_validator(mode="after")
    def _new_variant_is_complete(self) -> "VariantPatch":
        if self.id is None and (self.sku is None or self.price is None):
            raise ValueError("a new variant needs sku and price (or give the id of one to change)")
        return self


class ProductCreate(Model):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Annotated[str, Field(max_length=5000)] = ""
    images: Annotated[list[HttpsUrl], Field(max_length=20)] = []
    variants: Annotated[list[VariantCreate], Field(min_length=1, max_length=MAX_VARIANTS)]

    @model_validator(mode="after")
    def _consistent_variants(self) -> "ProductCreate":
        check_variants([(v.sku, v.price.currency) for v in self.variants])
        return self


class ProductPatch(Model):
    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Annotated[str, Field(max_length=5000)] | None = None
    images: Annotated[list[HttpsUrl], Field(max_length=20)] | None = None
    variants: Annotated[list[VariantPatch], Field(min_length=1, max_length=MAX_VARIANTS)] | None = (
        None
    )


def check_variants(sku_and_currency: list[tuple[str, str]]) -> None:
    """A product's SKUs are unique and its variants are priced in one currency."""
    skus = [sku for sku, _ in sku_and_currency]
    if len(set(skus)) != len(skus):
        raise ValueError("each variant of a product needs its own sku")
    if len({currency for _, currency in sku_and_currency}) > 1:
        raise ValueError("all variants of a product are priced in one currency")


class Variant(Model):
    model_config = ConfigDict(extra="forbid")

    id: str
    product_id: str
    merchant_id: str
    sku: str
    price: Money
    free: bool = False
    options: dict[str, str] = {}
    on_hand: int
    reserved: int = 0
    low_stock_threshold: int | None = None
    product_title: str | None = Field(
        None,
        description="The product's title, kept on the variant's item with its price, so that "
        "pricing a checkout reads the variants only (items written before it read the product).",
    )
    available: int = Field(
        -1,
        description="on_hand - reserved, stored so that a reservation can be a condition "
        "(`available >= quantity`): DynamoDB conditions cannot subtract.",
    )
    stock_version: int = Field(
        0,
        description="Raised by every write of the variant's stock or price (channels order "
        "their pushes by it).",
    )

    @model_validator(mode="after")
    def _available_follows_stock(self) -> "Variant":
        if self.available < 0:
            self.available = max(self.on_hand - self.reserved, 0)
        return self


class Product(Model):
    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    title: str
    description: str = ""
    images: list[str] = []
    variant_ids: list[str]
    created_at: datetime
    updated_at: datetime
    version: int = Field(0, description="Bumped by every change; guards concurrent patches.")


class Inventory(Model):
    on_hand: int
    reserved: int
    available: int
    low_stock_threshold: int | None = Field(None, exclude_if=lambda value: value is None)


class VariantView(Model):
    id: str
    sku: str
    price: Money
    free: bool
    options: dict[str, str]
    inventory: Inventory


class ProductView(Model):
    object: Literal["product"] = "product"
    id: str
    title: str
    description: str
    images: list[str]
    variants: list[VariantView]
    channels: list[ChannelView] = Field(
        [], description="Where the product is listed: each connected channel's verdict"
    )
    created_at: datetime
    updated_at: datetime


def product_view(
    product: Product, variants: list[Variant], channels: list[ChannelView] | None = None
) -> ProductView:
    by_id = {variant.id: variant for variant in variants}
    return ProductView(
        id=product.id,
        title=product.title,
        description=product.description,
        images=product.images,
        variants=[
            VariantView(
                id=v.id,
                sku=v.sku,
                price=v.price,
                free=v.free,
                options=v.options,
                inventory=Inventory(
                    on_hand=v.on_hand,
                    reserved=v.reserved,
                    available=v.available,
                    low_stock_threshold=v.low_stock_threshold,
                ),
            )
            for v in (by_id[vid] for vid in product.variant_ids if vid in by_id)
        ],
        channels=channels or [],
        created_at=product.created_at,
        updated_at=product.updated_at,
    )
