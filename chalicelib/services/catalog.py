"""Catalog use cases: create, read, list and patch products with their variants."""

from dataclasses import dataclass
from typing import Protocol

from ..domain.catalog import (
    Product,
    ProductCreate,
    ProductPatch,
    ProductView,
    Variant,
    check_price,
    check_variants,
    product_view,
)
from ..domain.channels import ChannelListing, ChannelView, channel_view
from ..domain.errors import BelowReserved, ConcurrentUpdate
from ..domain.ids import Prefix
from ..errors import Conflict, ValidationFailed
from .access import owned
from .ports import Clock


class ProductStore(Protocol):
    def add(self, product: Product, variants: list[Variant]) -> None: ...

    def product(self, product_id: str) -> Product | None: ...

    def products(self, product_ids: list[str]) -> list[Product]: ...

    def variants(self, variant_ids: list[str]) -> list[Variant]: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Product], str | None]: ...

    def replace(
        self,
        product: Product,
        changed: list[Variant],
        added: list[Variant],
        retitled: bool = False,
    ) -> None:
        """Write a patched product if it is still at `product.version - 1`, else raise
        ConcurrentUpdate; a changed variant's `on_hand` below its reserved units raises
        BelowReserved. `reserved` itself is never written, so checkouts keep their holds.
        Each variant keeps the product's title for pricing; `retitled`: the title changed."""
        ...


class ListingReader(Protocol):
    def of_product(self, product_id: str) -> list[ChannelListing]: ...


@dataclass(frozen=True)
class Catalog:
    products: ProductStore
    clock: Clock
    listings: ListingReader | None = None  # where each product is listed (its `channels`)


def _channels(catalog: Catalog, product: Product) -> list[ChannelView]:
    if catalog.listings is None:
        return []
    return [
        channel_view(listing, product.variant_ids)
        for listing in catalog.listings.of_product(product.id)
        if listing.merchant_id == product.merchant_id
    ]


def create_product(catalog: Catalog, merchant_id: str, request: ProductCreate) -> ProductView:
    now = catalog.clock.now()
    product_id = catalog.clock.new_id(Prefix.PRODUCT)
    variants = [
        Variant(
            id=catalog.clock.new_id(Prefix.VARIANT),
            product_id=product_id,
            merchant_id=merchant_id,
            sku=v.sku,
            price=v.price,
            free=v.free,
            options=v.options,
            on_hand=v.inventory.on_hand,
            low_stock_threshold=v.inventory.low_stock_threshold,
        )
        for v in request.variants
    ]
    product = Product(
        id=product_id,
        merchant_id=merchant_id,
        title=request.title,
        description=request.description,
        images=request.images,
        variant_ids=[v.id for v in variants],
        created_at=now,
        updated_at=now,
    )
    catalog.products.add(product, variants)
    return product_view(product, variants)


def owned_product(catalog: Catalog, merchant_id: str, product_id: str) -> Product:
    return owned(catalog.products.product, Prefix.PRODUCT, merchant_id, product_id, "product")


def get_product(catalog: Catalog, merchant_id: str, product_id: str) -> ProductView:
    product = owned_product(catalog, merchant_id, product_id)
    variants = catalog.products.variants(product.variant_ids)
    return product_view(product, variants, _channels(catalog, product))


def list_products(
    catalog: Catalog, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[ProductView], str | None]:
    products, next_cursor = catalog.products.page(merchant_id, limit, cursor)
    variants = catalog.products.variants([vid for p in products for vid in p.variant_ids])
    return [product_view(p, variants, _channels(catalog, p)) for p in products], next_cursor


def patch_product(
    catalog: Catalog, merchant_id: str, product_id: str, patch: ProductPatch
) -> ProductView:
    product = owned_product(catalog, merchant_id, product_id)
    variants = catalog.products.variants(product.variant_ids)
    by_id = {v.id: v for v in variants}
    changed: list[Variant] = []
    added: list[Variant] = []
    for index, change in enumerate(patch.variants or []):
        if change.id is None:
            assert change.sku is not None and change.price is not None  # the model checks it
            added.append(
                Variant(
                    id=catalog.clock.new_id(Prefix.VARIANT),
                    product_id=product.id,
                    merchant_id=merchant_id,
                    sku=change.sku,
                    price=change.price,
                    free=bool(change.free),
                    options=change.options or {},
                    on_hand=change.inventory.on_hand if change.inventory else 0,
                    low_stock_threshold=(
                        change.inventory.low_stock_threshold if change.inventory else None
                    ),
                )
            )
            continue
        current = by_id.get(change.id)
        if current is None:
            raise ValidationFailed(
                f"No variant '{change.id}' on this product.",
                code="resource_missing",
                param=f"variants[{index}].id",
            )
        updates = change.model_dump(exclude_unset=True, exclude={"id", "inventory"})
        if change.inventory is not None:
            updates["on_hand"] = change.inventory.on_hand
            updates["available"] = max(change.inventory.on_hand - current.reserved, 0)
            if "low_stock_threshold" in change.inventory.model_fields_set:
                updates["low_stock_threshold"] = change.inventory.low_stock_threshold
        changed.append(
            current.model_copy(update={**updates, "price": change.price or current.price})
        )

    final = {v.id: v for v in [*variants, *added]} | {v.id: v for v in changed}
    try:
        check_variants([(v.sku, v.price.currency) for v in final.values()])
    except ValueError as error:
        raise ValidationFailed(str(error), param="variants") from error
    patched = {v.id: v for v in [*changed, *added]}
    for index, change in enumerate(patch.variants or []):
        variant = patched[change.id] if change.id else added[_added_index(patch, index)]
        try:
            check_price(variant.price, variant.free)
        except ValueError as error:
            raise ValidationFailed(str(error), param=f"variants[{index}].price") from error

    fields = patch.model_dump(exclude_unset=True, exclude={"variants"})
    updated = product.model_copy(
        update={
            **fields,
            "variant_ids": product.variant_ids + [v.id for v in added],
            "updated_at": catalog.clock.now(),
            "version": product.version + 1,
        }
    )
    try:
        catalog.products.replace(updated, changed, added, updated.title != product.title)
    except ConcurrentUpdate as error:
        raise Conflict(
            "The product changed while this update was made; read it again and retry.",
            code="concurrent_update",
        ) from error
    except BelowReserved as short:
        index = next(i for i, c in enumerate(patch.variants or []) if c.id == short.variant_id)
        raise Conflict(
            "on_hand cannot go below the units already reserved by open orders.",
            code="inventory_below_reserved",
            param=f"variants[{index}].inventory.on_hand",
        ) from short
    return product_view(updated, list(final.values()), _channels(catalog, updated))


def _added_index(patch: ProductPatch, index: int) -> int:
    """Which of the added variants the patch's `index`-th entry is."""
    return sum(1 for change in (patch.variants or [])[:index] if change.id is None)
