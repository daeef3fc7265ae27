"""Each merchant's settings, one item beside the merchant (`MER#<id>` / `SETTINGS`).

A merchant that names a Meta commerce account is also listed in GSI1's
`COMMERCE#meta` partition, which the Shops order pull reads.
"""

from ...domain.errors import ConcurrentUpdate
from ...domain.settings import MerchantSettings
from . import keys
from .table import ConditionFailed, MainTable, model_item, without_keys


class SettingsRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def get(self, merchant_id: str) -> MerchantSettings:
        """The merchant's settings; the defaults until it changes one."""
        item = self.table.get(keys.merchant_settings(merchant_id))
        if item is None:
            return MerchantSettings()
        item.pop("merchant_id", None)
        return MerchantSettings.model_validate(without_keys(item))

    def put(self, merchant_id: str, settings: MerchantSettings, previous: MerchantSettings) -> None:
        """Replace the settings read as `previous`; ConcurrentUpdate if they changed since."""
        listing = {}
        if settings.meta_commerce_account_id:
            listing = {"gsi1pk": keys.META_COMMERCE_ACCOUNTS, "gsi1sk": merchant_id}
        item = model_item(settings, {**keys.merchant_settings(merchant_id), **listing},
                          merchant_id=merchant_id)  # fmt: skip
        if previous.updated_at is None:
            condition, values = "attribute_not_exists(pk)", {}
        else:
            before = previous.model_dump(mode="json")["updated_at"]  # as model_item wrote it
            condition, values = "updated_at = :before", {":before": before}
        try:
            self.table.put(item, condition, values=values)
        except ConditionFailed as failed:
            raise ConcurrentUpdate(merchant_id) from failed

    def with_meta_commerce_account(
        self, limit: int, cursor: str | None
    ) -> tuple[list[tuple[str, str]], str | None]:
        """(merchant id, commerce account id) of the merchants that named one."""
        page = self.table.query_listing(keys.META_COMMERCE_ACCOUNTS, limit, cursor)
        found = [(i["merchant_id"], i["meta_commerce_account_id"]) for i in page.items]
        return found, page.next_cursor
