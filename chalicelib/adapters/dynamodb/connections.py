"""Connections, keyed by platform account, so that a webhook finds its merchant in one read."""

from ...domain.connections import Connection
from ...domain.errors import AlreadyExists
from . import keys
from .table import ConditionFailed, MainTable, model_item, without_keys

CONNECTIONS = "CONNECTIONS"


class ConnectionRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def add(self, connection: Connection) -> None:
        """AlreadyExists when the account is already linked to any merchant."""
        listing = keys.listing_entry(
            connection.merchant_id, CONNECTIONS, connection.created_at.isoformat(), connection.id
        )
        key = keys.connection(connection.platform, connection.account_id)
        try:
            self.table.put(model_item(connection, {**key, **listing}), "attribute_not_exists(pk)")
        except ConditionFailed as failed:
            raise AlreadyExists(connection.account_id) from failed

    def for_account(self, platform: str, account_id: str) -> Connection | None:
        item = self.table.get(keys.connection(platform, account_id))
        return Connection.model_validate(without_keys(item)) if item else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Connection], str | None]:
        gsi1pk = keys.merchant_listing(merchant_id, CONNECTIONS)
        page = self.table.query_listing(gsi1pk, limit, cursor)
        return [Connection.model_validate(without_keys(i)) for i in page.items], page.next_cursor
