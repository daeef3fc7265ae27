"""The merchant's inbox of comments, mentions and messages, and the post counters they move.

An item's key comes from the platform's id, so a repeated event finds it there: the item and
the post's counter are written in one transaction, which fails as a whole for a repeat, so a
comment is counted exactly once however often it is delivered.

What people wrote is personal data: an item is kept for the inbox's retention (the table's
TTL), points at its author's token (erasure strips its text and handle), and between the
webhook and the consumer the text waits here (`TEXT#<ref>`, a few days at most), never on the
queue.
"""

from datetime import timedelta
from typing import Any

from ...domain.engagement import InboxItem
from . import keys
from .customer_refs import INBOX as INBOX_REF
from .customer_refs import add_ref
from .table import ConditionFailed, MainTable, model_item, to_attributes, without_keys

INBOX = "INBOX"


class InboxRepository:
    def __init__(self, table: MainTable, retention_days: int = 90):
        self.table = table
        self.retention = timedelta(days=retention_days)

    def add(self, item: InboxItem, counter: str | None = None) -> bool:
        """False if the item was there already. `counter`: the post's engagement count to
        raise with it (`comments`, `mentions`, `messages`)."""
        listing = keys.listing_entry(item.merchant_id, INBOX, item.occurred_at.isoformat(), item.id)
        ttl = int((item.occurred_at + self.retention).timestamp())
        tx = self.table.transaction()
        tx.put(
            model_item(item, {**keys.inbox_item(item.id), **listing}, ttl=ttl),
            "attribute_not_exists(pk)",
        )
        if counter and item.post_id:
            tx.update(
                keys.post(item.post_id),
                "SET engagement.#counter = engagement.#counter + :one",
                "attribute_exists(pk)",
                names={"#counter": counter},
                values={":one": 1},
            )
        if item.author is not None:
            add_ref(tx, item.author.token, INBOX_REF, item.id)  # for erasure to find
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            if failed.failed_indexes() == [0]:
                return False
            raise
        return True

    def stash_texts(self, texts: dict[str, str], expires_at: int) -> None:
        """Keep each text under its ref until the consumer takes it (or the TTL ends it)."""
        items = [
            {"PutRequest": {"Item": to_attributes(
                {**keys.engagement_text(ref), "text": text, "ttl": expires_at})}}
            for ref, text in texts.items()
        ]  # fmt: skip
        for start in range(0, len(items), 25):
            pending: dict[str, Any] = {self.table.name: items[start : start + 25]}
            while pending:
                with self.table._translated():
                    response = self.table.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}

    def stashed_text(self, ref: str) -> str | None:
        item = self.table.get(keys.engagement_text(ref))
        return item["text"] if item else None

    def drop_text(self, ref: str) -> None:
        with self.table._translated():
            self.table.client.delete_item(
                TableName=self.table.name, Key=to_attributes(keys.engagement_text(ref))
            )

    def get(self, item_id: str) -> InboxItem | None:
        item = self.table.get(keys.inbox_item(item_id))
        return InboxItem.model_validate(without_keys(item)) if item else None

    def set_reply(self, item_id: str, outcome: str, error: str | None = None) -> None:
        self.table.update(
            keys.inbox_item(item_id),
            "SET reply = :outcome, reply_error = :error",
            values={":outcome": outcome, ":error": error},
        )

    def page(self, merchant_id: str, limit: int, cursor: str | None):
        page = self.table.query_listing(keys.merchant_listing(merchant_id, INBOX), limit, cursor)
        return [InboxItem.model_validate(without_keys(i)) for i in page.items], page.next_cursor
