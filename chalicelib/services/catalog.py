"""Catalog use cases: create, read, list and patch products with their variants."""

from ..adapters.dynamodb.table import ConditionFailed
from ..domain.catalog import (
    Product,
    ProductCreate,
    ProductPatch,
    ProductView,
    Variant,
    check_variants,
    product_view,
)
from ..domain.ids import Prefix, has_prefix
from ..errors import Conflict, NotFound, ValidationFailed


def create_product(catalog, clock, merchant_id: str, request: ProductCreate) -> ProductView:
    now = clock.now()
    product_id = clock.new_id(Prefix.PRODUCT)
    variants = [
        Variant(
            id=clock.new_id(Prefix.VARIANT),
            product_id=product_id,
            merchant_id=merchant_id,
            sku=v.sku,
            price=v.price,
            options=v.options,
            on_hand=v.inventory.on_hand,
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
    catalog.add(product, variants)
    return product_view(product, variants)


def owned_product(catalog, merchant_id: str, product_id: str) -> tuple[Product, list[Variant]]:
    """The product if this merchant owns it; another merchant's looks exactly like a missing one."""
    found = catalog.get(product_id) if has_prefix(product_id, Prefix.PRODUCT) else None
    if found is None or found[0].merchant_id != merchant_id:
        raise NotFound(f"No such product: '{product_id}'.", param="id")
    return found


def get_product(catalog, merchant_id: str, product_id: str) -> ProductView:
    return product_view(*owned_product(catalog, merchant_id, product_id))


def list_products(catalog, merchant_id: str, limit: int, cursor: str | None):
    rows, next_cursor = catalog.page(merchant_id, limit, cursor)
    return [product_view(p, variants) for p, variants in rows], next_cursor


def patch_product(
    catalog, clock, merchant_id: str, product_id: str, patch: ProductPatch
) -> ProductView:
    product, variants = owned_product(catalog, merchant_id, product_id)
    by_id = {v.id: v for v in variants}
    changed: list[Variant] = []
    added: list[Variant] = []
    for index, change in enumerate(patch.variants or []):
        if change.id is None:
            added.append(
                Variant(
                    id=clock.new_id(Prefix.VARIANT),
                    product_id=product.id,
                    merchant_id=merchant_id,
                    sku=change.sku,
                    price=change.price,
                    options=change.options or {},
                    on_hand=change.inventory.on_hand if change.inventory else 0,
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
        changed.append(
            current.model_copy(update={**updates, "price": change.price or current.price})
        )

    final = {v.id: v for v in [*variants, *added]} | {v.id: v for v in changed}
    try:
        check_variants([(v.sku, v.price.currency) for v in final.values()])
    except ValueError as error:
        raise ValidationFailed(str(error), param="variants") from error

    fields = patch.model_dump(exclude_unset=True, exclude={"variants"})
    updated = product.model_copy(
        update={
            **fields,
            "variant_ids": product.variant_ids + [v.id for v in added],
            "updated_at": clock.now(),
            "version": product.version + 1,
        }
    )
    try:
        catalog.replace(updated, changed, added)
    except ConditionFailed as failed:
        _explain_patch_conflict(failed, patch, changed)
        raise
    return product_view(updated, list(final.values()))


def _explain_patch_conflict(failed: ConditionFailed, patch: ProductPatch, changed) -> None:
    indexes = failed.failed_indexes()
    if 0 in indexes or not indexes:
        raise Conflict(
            "The product changed while this update was made; read it again and retry.",
            code="concurrent_update",
        )
    variant = changed[indexes[0] - 1] if indexes[0] - 1 < len(changed) else None
    if variant is not None:
        index = next(i for i, c in enumerate(patch.variants or []) if c.id == variant.id)
        raise Conflict(
            "on_hand cannot go below the units already reserved by open orders.",
            code="inventory_below_reserved",
            param=f"variants[{index}].inventory.on_hand",
        )
