"""The merchant's inbox of comments, mentions and messages, and the post counters they move.

An item's key comes from the platform's id, so a repeated event finds it there: the item and
the post's counter are written in one transaction, which fails as a whole for a repeat, so a
comment is counted exactly once however often it is delivered.
"""

from ...domain.engagement import InboxItem
from ...domain.outbound import Event
from . import keys
from .outbox import add_event
from .table import ConditionFailed, MainTable, model_item, without_keys

INBOX = "INBOX"


class InboxRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def add(self, item: InboxItem, counter: str | None = None, event: Event | None = None) -> bool:
        """False if the item was there already. `counter`: the post's engagement count to
        raise with it (`comments`, `mentions`, `messages`); `event` goes into the outbox with
        it."""
        listing = keys.listing_entry(item.merchant_id, INBOX, item.occurred_at.isoformat(), item.id)
        tx = self.table.transaction()
        tx.put(
            model_item(item, {**keys.inbox_item(item.id), **listing}), "attribute_not_exists(pk)"
        )
        if counter and item.post_id:
            tx.update(
                keys.post(item.post_id),
                "SET engagement.#counter = engagement.#counter + :one",
                "attribute_exists(pk)",
                names={"#counter": counter},
                values={":one": 1},
            )
        if event is not None:
            add_event(tx, event)
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            if failed.failed_indexes() == [0]:
                return False
            raise
        return True

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
