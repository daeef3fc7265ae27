"""Merchants and their API keys.

Two items per key: the record its merchant manages (`APIKEY#<id>`, listed per merchant), and
one credential per live secret (`KEY#<hash>`), which authentication reads with one strongly
consistent get: a revocation deletes the credentials in the same transaction that marks the
record, so the next request with the secret is refused, whatever instance serves it.
"""

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from ...domain.errors import AlreadyExists, StoreRefused
from ...domain.merchants import ApiKey, KeyRecord, KeySecret, Merchant
from . import keys
from .table import ConditionFailed, MainTable, Transaction, model_item, without_keys

KEYS = "KEYS"
# A credential that expires is deleted by the table's TTL a day after it stopped working.
_CLEANUP = timedelta(days=1)


def _secret(key: ApiKey) -> KeySecret:
    return KeySecret(
        secret_hash=key.secret_hash,
        hint=key.hint,
        created_at=key.created_at,
        expires_at=key.expires_at,
    )


def _present(item: dict[str, Any]) -> dict[str, Any]:
    """Absent, not null: conditions test `attribute_not_exists` (last use, revocation)."""
    return {name: value for name, value in item.items() if value is not None}


def _put_credential(tx: Transaction, key: ApiKey) -> None:
    extra: dict[str, Any] = {}
    if key.expires_at is not None:
        extra["ttl"] = int((key.expires_at + _CLEANUP).timestamp())
    item = model_item(key, keys.api_key(key.secret_hash), **extra)
    tx.put(_present(item), "attribute_not_exists(pk)")


def _put_record(tx: Transaction, key: ApiKey) -> None:
    record = KeyRecord(
        id=key.id,
        merchant_id=key.merchant_id,
        scopes=key.scopes,
        created_at=key.created_at,
        expires_at=key.expires_at,
        secrets=[_secret(key)],
    )
    listing = keys.listing_entry(key.merchant_id, KEYS, key.created_at.isoformat(), key.id)
    item = model_item(record, {**keys.key_record(key.id), **listing})
    tx.put(_present(item), "attribute_not_exists(pk)")


class MerchantRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def add(self, merchant: Merchant, first_key: ApiKey) -> None:
        """The merchant and its first key appear together or not at all."""
        tx = self.table.transaction()
        tx.put(model_item(merchant, keys.merchant(merchant.id)), "attribute_not_exists(pk)")
        _put_credential(tx, first_key)
        _put_record(tx, first_key)
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise AlreadyExists(merchant.id) from failed

    def add_key(self, key: ApiKey) -> None:
        """Another key for an existing merchant; StoreRefused if the merchant is gone."""
        tx = self.table.transaction()
        tx.check(keys.merchant(key.merchant_id), "attribute_exists(pk)")
        _put_credential(tx, key)
        _put_record(tx, key)
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise StoreRefused(f"no merchant {key.merchant_id}") from failed

    def get(self, merchant_id: str) -> Merchant | None:
        item = self.table.get(keys.merchant(merchant_id))
        return Merchant.model_validate(without_keys(item)) if item else None

    def key_by_hash(self, secret_hash: str) -> ApiKey | None:
        """Strongly consistent: a secret revoked a moment ago is not found."""
        item = self.table.get(keys.api_key(secret_hash), consistent=True)
        return ApiKey.model_validate(without_keys(item)) if item else None

    def mark_used(self, secret_hash: str, at: datetime, if_before: datetime) -> None:
        """Record when a secret was last used, at most once per period (`if_before`)."""
        # ConditionFailed: another request recorded it, or the secret is gone: nothing to do.
        with suppress(ConditionFailed):
            self.table.update(
                keys.api_key(secret_hash),
                "SET last_used_at = :at",
                "attribute_exists(pk) AND (attribute_not_exists(last_used_at)"
                " OR last_used_at < :before)",
                values={":at": at.isoformat(), ":before": if_before.isoformat()},
            )

    def key_record(self, key_id: str) -> KeyRecord | None:
        item = self.table.get(keys.key_record(key_id))
        return KeyRecord.model_validate(without_keys(item)) if item else None

    def key_page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[KeyRecord], str | None]:
        page = self.table.query_listing(keys.merchant_listing(merchant_id, KEYS), limit, cursor)
        return [KeyRecord.model_validate(without_keys(i)) for i in page.items], page.next_cursor

    def last_used(self, secret_hashes: list[str]) -> dict[str, datetime]:
        """When each of these secrets was last used (those never used are left out)."""
        if not secret_hashes:
            return {}
        found = self.table.get_many([keys.api_key(h) for h in secret_hashes])
        return {
            i["secret_hash"]: datetime.fromisoformat(i["last_used_at"])
            for i in found
            if i.get("last_used_at")
        }

    def revoke(self, record: KeyRecord, at: datetime) -> bool:
        """Mark the key revoked and delete every credential of it, together; False if the key
        changed meanwhile (rolled, or revoked already)."""
        tx = self.table.transaction()
        tx.update(
            keys.key_record(record.id),
            "SET revoked_at = :at, version = version + :one",
            "version = :version AND attribute_not_exists(revoked_at)",
            values={":at": at.isoformat(), ":one": 1, ":version": record.version},
        )
        for secret in record.secrets:
            tx.delete(keys.api_key(secret.secret_hash))
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return False
        return True

    def roll(self, record: KeyRecord, new: ApiKey, grace_until: datetime, now: datetime) -> bool:
        """The new secret becomes the key's; the current one keeps working until
        `grace_until` (gone at once when that is now); an older one still in its grace ends
        now. False if the key changed meanwhile."""
        current, older = record.secrets[0], record.secrets[1:]
        keep_current = grace_until > now
        kept = [KeySecret(**{**current.model_dump(), "expires_at": grace_until})]
        secrets = [_secret(new), *(kept if keep_current else [])]
        tx = self.table.transaction()
        tx.update(
            keys.key_record(record.id),
            "SET secrets = :secrets, version = version + :one",
            "version = :version AND attribute_not_exists(revoked_at)",
            values={
                ":secrets": [s.model_dump(mode="json") for s in secrets],
                ":one": 1,
                ":version": record.version,
            },
        )
        _put_credential(tx, new)
        if keep_current:
            tx.update(
                keys.api_key(current.secret_hash),
                "SET expires_at = :until, #ttl = :ttl",
                "attribute_exists(pk)",
                names={"#ttl": "ttl"},
                values={
                    ":until": grace_until.isoformat(),
                    ":ttl": int((grace_until + _CLEANUP).timestamp()),
                },
            )
        else:
            tx.delete(keys.api_key(current.secret_hash))
        for secret in older:
            tx.delete(keys.api_key(secret.secret_hash))
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return False
        return True
