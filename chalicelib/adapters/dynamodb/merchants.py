"""Merchants and the hashes of their API keys."""

from ...domain.errors import AlreadyExists, StoreRefused
from ...domain.merchants import ApiKey, Merchant
from . import keys
from .table import ConditionFailed, MainTable, model_item, without_keys


class MerchantRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def add(self, merchant: Merchant, first_key: ApiKey) -> None:
        """The merchant and its first key appear together or not at all."""
        tx = self.table.transaction()
        tx.put(model_item(merchant, keys.merchant(merchant.id)), "attribute_not_exists(pk)")
        tx.put(
            model_item(first_key, keys.api_key(first_key.secret_hash)), "attribute_not_exists(pk)"
        )
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise AlreadyExists(merchant.id) from failed

    def add_key(self, key: ApiKey) -> None:
        """Another key for an existing merchant; StoreRefused if the merchant is gone."""
        tx = self.table.transaction()
        tx.check(keys.merchant(key.merchant_id), "attribute_exists(pk)")
        tx.put(model_item(key, keys.api_key(key.secret_hash)), "attribute_not_exists(pk)")
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise StoreRefused(f"no merchant {key.merchant_id}") from failed

    def get(self, merchant_id: str) -> Merchant | None:
        item = self.table.get(keys.merchant(merchant_id))
        return Merchant.model_validate(without_keys(item)) if item else None

    def key_by_hash(self, secret_hash: str) -> ApiKey | None:
        item = self.table.get(keys.api_key(secret_hash), consistent=False)
        return ApiKey.model_validate(without_keys(item)) if item else None
