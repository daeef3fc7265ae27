"""The transactional outbox on the main table, and what its stream says.

A repository that changes something merchants hear about adds `add_event(tx, event)` to the
same transaction as the change: the change and its event commit together or not at all, so
there is no way to publish an event for a change that did not happen or to lose the event of
one that did. The outbox item is keyed by the object (`keys.outbox`): DynamoDB Streams give
the records of one item in the order of its writes, so each object's events reach the
consumer in commit order, and `seq` (raised in the same write) numbers them.

Variants need no outbox item for `inventory.low`: the variant's own stream record (old and new
image) shows its stock crossing its threshold, and the event's id is derived from the stream
record's id, so that a record read twice yields the same event.
"""

import hashlib
from datetime import UTC, datetime
from typing import Any

from ...domain.channels import CatalogChange, ChannelsChanged, ProductChanged, StockChanged
from ...domain.ids import Prefix
from ...domain.outbound import (
    Event,
    EventType,
    InventoryLowData,
    inventory_crossed_low,
    new_event,
)
from . import keys
from .table import Transaction, from_attributes, to_attributes


def add_event(tx: Transaction, event: Event, main_table: str | None = None) -> None:
    """Put `event` in the outbox within `tx`. `main_table`: for a transaction gathered on
    another table (the vault's erasure), the main table's name."""
    update = {
        "TableName": main_table or tx.table_name,
        "Key": to_attributes(keys.outbox(event.object_id)),
        "UpdateExpression": "SET #event = :event, #seq = if_not_exists(#seq, :zero) + :one",
        "ExpressionAttributeNames": {"#event": "event", "#seq": "seq"},
        "ExpressionAttributeValues": to_attributes(
            {":event": event.model_dump(mode="json"), ":zero": 0, ":one": 1}
        ),
    }
    tx.items.append({"Update": update})


def events_of(record: dict[str, Any]) -> list[Event]:
    """The events one DynamoDB stream record (Lambda's shape) carries; most carry none."""
    change = record.get("dynamodb") or {}
    if record.get("eventName") not in ("INSERT", "MODIFY") or "NewImage" not in change:
        return []
    new = from_attributes(change["NewImage"])
    pk = str(new.get("pk", ""))
    if pk.startswith(keys.OUTBOX_PREFIX) and "event" in new:
        return [Event.model_validate({**new["event"], "sequence": new.get("seq")})]
    if pk.startswith(keys.VARIANT_PREFIX) and "OldImage" in change:
        old = from_attributes(change["OldImage"])
        threshold = new.get("low_stock_threshold")
        if inventory_crossed_low(old.get("available"), new.get("available", 0), threshold):
            return [_inventory_low(record, new)]
    return []


def _inventory_low(record: dict[str, Any], variant: dict[str, Any]) -> Event:
    digest = hashlib.sha256(f"inventory.low/{record['eventID']}".encode()).hexdigest()[:24]
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    at = datetime.fromtimestamp(float(created), UTC) if created else datetime.now(UTC)
    return new_event(
        f"{Prefix.EVENT}_{digest}",
        EventType.INVENTORY_LOW,
        variant["merchant_id"],
        variant["id"],
        InventoryLowData(
            variant_id=variant["id"],
            product_id=variant["product_id"],
            sku=variant["sku"],
            available=variant["available"],
            threshold=variant["low_stock_threshold"],
        ),
        at,
    )


def catalog_changes(record: dict[str, Any]) -> list[CatalogChange]:
    """What one stream record tells the channels: a product created or changed (its
    `version` moved), a variant whose available stock moved, or a merchant's channels that
    changed (an account connected, a Meta catalog named)."""
    change = record.get("dynamodb") or {}
    if record.get("eventName") not in ("INSERT", "MODIFY") or "NewImage" not in change:
        return []
    new = from_attributes(change["NewImage"])
    old = from_attributes(change["OldImage"]) if "OldImage" in change else {}
    pk = str(new.get("pk", ""))
    if pk.startswith(keys.PRODUCT_PREFIX) and new.get("sk") == "PRODUCT":
        if old and old.get("version") == new.get("version"):
            return []
        return [
            ProductChanged(product_id=new["id"], merchant_id=new["merchant_id"], created=not old)
        ]
    if pk.startswith(keys.CONNECTION_PREFIX) and not old and new.get("merchant_id"):
        return [ChannelsChanged(merchant_id=new["merchant_id"])]
    if pk.startswith(keys.MERCHANT_PREFIX) and new.get("sk") == "SETTINGS":
        if new.get("meta_catalog_id") and new.get("meta_catalog_id") != old.get("meta_catalog_id"):
            return [ChannelsChanged(merchant_id=new["merchant_id"])]
        return []
    if pk.startswith(keys.VARIANT_PREFIX) and old and old.get("available") != new.get("available"):
        return [
            StockChanged(
                variant_id=new["id"],
                product_id=new["product_id"],
                merchant_id=new["merchant_id"],
                version=int(new.get("stock_version") or 0),
            )
        ]
    return []
