"""Creators, their links and codes, and the commission ledger.

A referral's key is the merchant and the code, so a checkout finds the ones it names in one
batch read, and a code is unique per merchant by a condition on its key. The ledger keeps one
item per attributed order (what was earned, how much of it was clawed back, and the order's
last event applied) and one entry per event that moved money, in the creator's partition
sorted by time; each write is conditional on the order's item as it was read, with the entry
keyed by its event, so an event applied twice, or an older one after a newer, changes nothing.
"""

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from ...domain.attribution import Referral
from ...domain.creators import Creator, LedgerEntry, OrderCommission
from ...domain.errors import AlreadyExists, ConcurrentUpdate
from . import keys
from .table import ConditionFailed, MainTable, model_item, without_keys

CREATORS = "CREATORS"


def _referrals_listing(creator_id: str) -> str:
    return f"REFERRALS#{creator_id}"


def _as_stored(moment: datetime) -> str:
    """A time as `model_item` writes it (pydantic's JSON form)."""
    return str(TypeAdapter(datetime).dump_python(moment, mode="json"))


def _sortable(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


class CreatorRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def _item(self, creator: Creator) -> dict[str, Any]:
        listing = keys.listing_entry(
            creator.merchant_id, CREATORS, creator.created_at.isoformat(), creator.id
        )
        return model_item(creator, {**keys.creator(creator.id), **listing})

    def add(self, creator: Creator) -> None:
        try:
            self.table.put(self._item(creator), "attribute_not_exists(pk)")
        except ConditionFailed as failed:
            raise AlreadyExists(creator.id) from failed

    def get(self, creator_id: str) -> Creator | None:
        item = self.table.get(keys.creator(creator_id))
        return Creator.model_validate(without_keys(item)) if item else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Creator], str | None]:
        page = self.table.query_listing(keys.merchant_listing(merchant_id, CREATORS), limit, cursor)
        return [Creator.model_validate(without_keys(i)) for i in page.items], page.next_cursor

    def replace(self, creator: Creator, read_at: datetime) -> None:
        """Write a changed creator if nobody changed it since it was read."""
        try:
            self.table.put(
                self._item(creator), "updated_at = :read", values={":read": _as_stored(read_at)}
            )
        except ConditionFailed as failed:
            raise ConcurrentUpdate(creator.id) from failed


class ReferralRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def add(self, referral: Referral) -> None:
        listing = keys.listing_entry(
            referral.merchant_id,
            _referrals_listing(referral.creator_id),
            referral.created_at.isoformat(),
            referral.code,
        )
        item = model_item(
            referral, {**keys.referral(referral.merchant_id, referral.code), **listing}
        )
        try:
            self.table.put(item, "attribute_not_exists(pk)")
        except ConditionFailed as failed:
            raise AlreadyExists(referral.code) from failed

    def find(self, merchant_id: str, codes: list[str]) -> list[Referral]:
        items = self.table.get_many([keys.referral(merchant_id, code) for code in codes])
        return [Referral.model_validate(without_keys(i)) for i in items]

    def get(self, merchant_id: str, code: str) -> Referral | None:
        item = self.table.get(keys.referral(merchant_id, code))
        return Referral.model_validate(without_keys(item)) if item else None

    def of_creator(
        self, merchant_id: str, creator_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Referral], str | None]:
        page = self.table.query_listing(
            keys.merchant_listing(merchant_id, _referrals_listing(creator_id)), limit, cursor
        )
        return [Referral.model_validate(without_keys(i)) for i in page.items], page.next_cursor

    def set_active(self, merchant_id: str, code: str, active: bool) -> Referral | None:
        try:
            item = self.table.update(
                keys.referral(merchant_id, code),
                "SET active = :active",
                "attribute_exists(pk)",
                values={":active": active},
            )
        except ConditionFailed:
            return None
        return Referral.model_validate(without_keys(item))


class CommissionLedger:
    def __init__(self, table: MainTable):
        self.table = table

    def get(self, order_id: str) -> OrderCommission | None:
        item = self.table.get(keys.order_commission(order_id))
        return OrderCommission.model_validate(without_keys(item)) if item else None

    def _entry_item(self, entry: LedgerEntry) -> dict[str, Any]:
        return model_item(entry, keys.ledger_entry(entry.creator_id, _sortable(entry.at), entry.id))

    def earn(self, commission: OrderCommission, entry: LedgerEntry | None) -> bool:
        """Start the order's commission, with its `earned` entry (None when nothing was
        earned: a paused creator); False if it was started already."""
        tx = self.table.transaction()
        tx.put(
            model_item(commission, keys.order_commission(commission.order_id)),
            "attribute_not_exists(pk)",
        )
        if entry is not None:
            tx.put(self._entry_item(entry), "attribute_not_exists(pk)")
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return False
        return True

    def adjust(
        self, commission: OrderCommission, read_sequence: int, entry: LedgerEntry | None
    ) -> bool:
        """Move the order's commission to `commission` (its clawed total and sequence), with
        `entry` if money moved, if it is still as read at `read_sequence`; else False."""
        tx = self.table.transaction()
        tx.update(
            keys.order_commission(commission.order_id),
            "SET clawed = :clawed, #seq = :seq",
            "#seq = :read",
            names={"#seq": "sequence"},
            values={
                ":clawed": commission.clawed,
                ":seq": commission.sequence,
                ":read": read_sequence,
            },
        )
        if entry is not None:
            tx.put(self._entry_item(entry), "attribute_not_exists(pk)")
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return False
        return True

    def entries(self, creator_id: str, start: datetime, end: datetime) -> list[LedgerEntry]:
        """The creator's entries from `start` up to, not including, `end`, oldest first."""
        items = self.table.query_between(
            keys.creator_ledger(creator_id), _sortable(start), _sortable(end)
        )
        return [LedgerEntry.model_validate(without_keys(i)) for i in items]
