"""Products and variants. A variant is its own item, so that checkout can reserve its stock
with a condition on that one item, addressed by the variant id alone."""

from ...domain.catalog import Product, Variant
from ...domain.errors import AlreadyExists, BelowReserved, ConcurrentUpdate
from . import keys
from .table import ConditionFailed, MainTable, model_item, without_keys

PRODUCTS = "PRODUCTS"


class CatalogRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def _product_item(self, product: Product) -> dict:
        listing = keys.listing_entry(
            product.merchant_id, PRODUCTS, product.created_at.isoformat(), product.id
        )
        return model_item(product, {**keys.product(product.id), **listing})

    def add(self, product: Product, variants: list[Variant]) -> None:
        tx = self.table.transaction()
        tx.put(self._product_item(product), "attribute_not_exists(pk)")
        for variant in variants:
            tx.put(_variant_item(variant, product), "attribute_not_exists(pk)")
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise AlreadyExists(product.id) from failed

    def product(self, product_id: str) -> Product | None:
        item = self.table.get(keys.product(product_id))
        return Product.model_validate(without_keys(item)) if item else None

    def products(self, product_ids: list[str]) -> list[Product]:
        items = self.table.get_many([keys.product(pid) for pid in product_ids])
        return [Product.model_validate(without_keys(i)) for i in items]

    def variants(self, variant_ids: list[str]) -> list[Variant]:
        items = self.table.get_many([keys.variant(vid) for vid in variant_ids])
        return [Variant.model_validate(without_keys(i)) for i in items]

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Product], str | None]:
        page = self.table.query_listing(keys.merchant_listing(merchant_id, PRODUCTS), limit, cursor)
        return [Product.model_validate(without_keys(i)) for i in page.items], page.next_cursor

    def replace(
        self,
        product: Product,
        changed: list[Variant],
        added: list[Variant],
        retitled: bool = False,
    ) -> None:
        """Write a patched product if nobody changed it since it was read (`version` + 1).

        A changed variant's stock is set only if it stays at or above what is reserved;
        `reserved` itself is never written here, so concurrent checkouts keep their holds.
        Every variant item keeps the product's title: changed ones get it, and when the title
        changed (`retitled`) the others too, in the same transaction.
        """
        tx = self.table.transaction()
        tx.put(
            self._product_item(product),
            "attribute_exists(pk) AND version = :read",
            values={":read": product.version - 1},
        )
        for variant in changed:
            tx.update(
                keys.variant(variant.id),
                "SET sku = :sku, price = :price, options = :options, on_hand = :on_hand,"
                " available = :on_hand - reserved, low_stock_threshold = :low,"
                " stock_version = if_not_exists(stock_version, :zero) + :one,"
                " product_title = :title",
                "attribute_exists(pk) AND product_id = :pid AND reserved <= :on_hand",
                values={
                    ":sku": variant.sku,
                    ":price": variant.price.model_dump(),
                    ":options": variant.options,
                    ":on_hand": variant.on_hand,
                    ":low": variant.low_stock_threshold,
                    ":pid": product.id,
                    ":zero": 0,
                    ":one": 1,
                    ":title": product.title,
                },
            )
        for variant in added:
            tx.put(_variant_item(variant, product), "attribute_not_exists(pk)")
        if retitled:
            written = {v.id for v in [*changed, *added]}
            for variant_id in product.variant_ids:
                if variant_id not in written:
                    tx.update(
                        keys.variant(variant_id),
                        "SET product_title = :title",
                        "attribute_exists(pk) AND product_id = :pid",
                        values={":title": product.title, ":pid": product.id},
                    )
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            indexes = failed.failed_indexes()
            if 0 in indexes or not indexes or indexes[0] > len(changed):
                raise ConcurrentUpdate(product.id) from failed
            raise BelowReserved(changed[indexes[0] - 1].id) from failed


def _variant_item(variant: Variant, product: Product) -> dict:
    return model_item(variant.model_copy(update={"product_title": product.title}),
                      keys.variant(variant.id))  # fmt: skip
