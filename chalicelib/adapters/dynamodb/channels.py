"""CatalogChannel listings: per product, one item per channel account and one per listed variant,
all in the product's own partition (`LISTING#<product>`), read with one query.

A variant's item is written apart from its listing: catalog sync sets its ids and verdict,
and a stock push records the version it sent with a condition on that item alone
(`synced_version < :version`), so that of two pushes the older can never be recorded last.
"""

from contextlib import suppress
from datetime import datetime
from typing import Any

from ...domain.channels import ChannelListing, ListedVariant
from ...domain.outbound import Event
from . import keys
from .outbox import add_event
from .table import ConditionFailed, MainTable, model_item, without_keys

LISTINGS = "LISTINGS"
_VARIANT_FIELDS = ("sku", "external_id", "catalog_product_id", "status", "reason")


class ListingRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def of_product(self, product_id: str) -> list[ChannelListing]:
        items = self.table.partition(keys.listings_of_product(product_id), limit=1000)
        listings: dict[str, dict[str, Any]] = {}
        variants: dict[str, list[dict[str, Any]]] = {}
        for item in items:
            head, _, variant = item["sk"].partition("#VAR#")
            if variant:
                variants.setdefault(head, []).append(without_keys(item))
            else:
                found = without_keys(item)
                found.pop("kind", None)
                listings[head] = found
        return [
            ChannelListing.model_validate(
                {**found, "variants": {v["variant_id"]: v for v in variants.get(sk, [])}}
            )
            for sk, found in listings.items()
        ]

    def save(self, listing: ChannelListing, check_at: datetime) -> None:
        """The listing's own fields and each variant's ids and verdict, due to be read back
        at `check_at`; the versions a stock push recorded are left as they are (`record_push`
        alone writes them)."""
        head = listing.model_copy(update={"variants": {}})
        item = model_item(
            head,
            {
                **keys.channel_listing(listing.product_id, listing.channel, listing.account_id),
                **keys.reconcile_due(
                    listing.product_id, listing.channel, listing.account_id, check_at.isoformat()
                ),
            },
            kind="listing",
        )
        item.pop("variants", None)
        self.table.put(item)
        for variant in listing.variants.values():
            values = variant.model_dump(mode="json", include=set(_VARIANT_FIELDS))
            sets = ", ".join(f"#{name} = :{name}" for name in values)
            self.table.update(
                keys.listed_variant(
                    listing.product_id, listing.channel, listing.account_id, variant.variant_id
                ),
                f"SET variant_id = :variant_id, {sets},"
                " synced_version = if_not_exists(synced_version, :never)",
                names={f"#{name}": name for name in values},
                values={
                    **{f":{name}": value for name, value in values.items()},
                    ":variant_id": variant.variant_id,
                    ":never": -1,
                },
            )

    def record_push(
        self,
        listing: ChannelListing,
        variant_id: str,
        version: int,
        available: int,
        at: datetime,
    ) -> bool:
        """Record that the channel now holds `version` of the variant; False if it was
        told a newer one already."""
        try:
            self.table.update(
                keys.listed_variant(
                    listing.product_id, listing.channel, listing.account_id, variant_id
                ),
                "SET synced_version = :v, synced_available = :a, synced_at = :at",
                "attribute_exists(pk) AND synced_version < :v",
                values={":v": version, ":a": available, ":at": at.isoformat()},
            )
        except ConditionFailed:
            return False
        self.table.update(
            keys.channel_listing(listing.product_id, listing.channel, listing.account_id),
            "SET last_synced_at = :at",
            "attribute_exists(pk)",
            values={":at": at.isoformat()},
        )
        return True

    def remove(self, listing: ChannelListing) -> None:
        for variant_id in listing.variants:
            self.table.delete(
                keys.listed_variant(
                    listing.product_id, listing.channel, listing.account_id, variant_id
                )
            )
        self.table.delete(
            keys.channel_listing(listing.product_id, listing.channel, listing.account_id)
        )

    def due_products(self, now: datetime, limit: int = 100) -> list[str]:
        """Products with a listing due to be read back (at most `limit` per partition)."""
        found: dict[str, None] = {}
        for partition in keys.listed_partitions():
            for item in self.table.due(partition, now.isoformat(), limit):
                found[str(item["gsi2sk"]).split("#")[1]] = None
        return list(found)

    def checked(self, listing: ChannelListing, check_at: datetime) -> None:
        """Read back: due again at `check_at`."""
        self.table.update(
            keys.channel_listing(listing.product_id, listing.channel, listing.account_id),
            "SET gsi2sk = :due",
            "attribute_exists(pk)",
            values={
                ":due": keys.reconcile_due(
                    listing.product_id, listing.channel, listing.account_id, check_at.isoformat()
                )["gsi2sk"]
            },
        )

    def forget_push(self, listing: ChannelListing, variant_id: str) -> None:
        """The channel was found to hold something else than we told it: the next stock
        push sends the variant again whatever its version."""
        self.table.update(
            keys.listed_variant(
                listing.product_id, listing.channel, listing.account_id, variant_id
            ),
            "SET synced_version = :never",
            "attribute_exists(pk)",
            values={":never": -1},
        )

    def forget_variant(self, listing: ChannelListing, variant_id: str) -> None:
        """The channel no longer has the variant's item: the next catalog job lists it anew."""
        self.table.delete(
            keys.listed_variant(listing.product_id, listing.channel, listing.account_id, variant_id)
        )

    def report(self, event: Event) -> None:
        """An event about listings, through the outbox."""
        tx = self.table.transaction()
        add_event(tx, event)
        self.table.commit(tx)

    # One worker at a time pushes a variant's stock

    def claim_push(self, variant_id: str, now: datetime, until: datetime) -> bool:
        try:
            self.table.put(
                {**keys.stock_push_lease(variant_id), "until": until.isoformat()},
                "attribute_not_exists(pk) OR #until < :now",
                names={"#until": "until"},
                values={":now": now.isoformat()},
            )
        except ConditionFailed:
            return False
        return True

    def release_push(self, variant_id: str, until: datetime) -> None:
        # a lease that ran out may be another worker's by now: delete only our own
        with suppress(ConditionFailed):
            self.table.delete(
                keys.stock_push_lease(variant_id),
                "#until = :until",
                names={"#until": "until"},
                values={":until": until.isoformat()},
            )


def listed(item: dict[str, Any]) -> ListedVariant:
    return ListedVariant.model_validate(item)
