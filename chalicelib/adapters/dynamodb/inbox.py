"""The merchant's inbox of comments, mentions and messages, and the post counters they move.

An item's key comes from the platform's id, so a repeated event finds it there: the item and
the post's counter are written in one transaction, which fails as a whole for a repeat, so a
comment is counted exactly once however often it is delivered. A removal lowers the counter
in the same way, once; a removal that arrives before its object leaves the item there,
removed, so the object arriving late is a repeat and is neither shown nor counted.

What people wrote is personal data: an item is kept for the inbox's retention (the table's
TTL), points at its author's token (erasure strips its text and handle), and between the
webhook and the consumer the text waits here (`TEXT#<ref>`, a few days at most), never on the
queue.
"""

from datetime import datetime, timedelta
from typing import Any

from ...domain.engagement import Attachment, InboxItem
from ...domain.outbound import Event
from . import keys
from .customer_refs import INBOX as INBOX_REF
from .customer_refs import add_ref
from .outbox import add_event
from .table import ConditionFailed, MainTable, model_item, to_attributes, without_keys

INBOX = "INBOX"


class InboxRepository:
    def __init__(self, table: MainTable, retention_days: int = 90):
        self.table = table
        self.retention = timedelta(days=retention_days)

    def add(self, item: InboxItem, counter: str | None = None, event: Event | None = None) -> bool:
        """False if the item was there already. `counter`: the post's engagement count to
        raise with it (`comments`, `mentions`, `messages`); `event` goes into the outbox with
        it."""
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
        if event is not None:
            add_event(tx, event)
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

    def edit(
        self, item_id: str, text: str, attachments: list[Attachment] | None, edited_at: datetime
    ) -> bool:
        """Replace the text (and the attachments, if the edit carries any) unless the item is
        removed or holds a later edit."""
        values: dict = {":text": text, ":at": edited_at.isoformat(), ":active": "active",
                        ":null": "NULL"}  # fmt: skip
        update = "SET #text = :text, edited_at = :at"
        if attachments is not None:
            update += ", attachments = :attachments"
            values[":attachments"] = [a.model_dump(mode="json") for a in attachments]
        try:
            self.table.update(
                keys.inbox_item(item_id),
                update,
                "attribute_exists(pk) AND #state = :active AND (attribute_not_exists(edited_at)"
                " OR attribute_type(edited_at, :null) OR edited_at < :at)",
                names={"#text": "text", "#state": "state"},
                values=values,
            )
        except ConditionFailed:
            return False
        return True

    def remove(self, item: InboxItem, counter: str | None = None) -> None:
        """Mark `item` removed (its text and attachments dropped) and lower its post's
        counter; an item not there yet is put there removed."""
        removed_at = (item.removed_at or item.occurred_at).isoformat()
        existing = self.get(item.id)
        if existing is None:
            tombstone = item.model_copy(update={"state": "removed", "text": "", "attachments": []})
            listing = keys.listing_entry(item.merchant_id, INBOX, item.occurred_at.isoformat(),
                                         item.id)  # fmt: skip
            try:
                self.table.put(
                    model_item(
                        tombstone,
                        {**keys.inbox_item(item.id), **listing},
                        ttl=int((item.occurred_at + self.retention).timestamp()),
                    ),
                    "attribute_not_exists(pk)",
                )
                return
            except ConditionFailed:
                existing = self.get(item.id)  # it arrived meanwhile: remove it
        if existing is None or existing.state == "removed":
            return
        counted = counter if existing.post_id and existing.kind != "message" else None
        for post_counter in (counted, None):
            tx = self.table.transaction()
            tx.update(
                keys.inbox_item(item.id),
                "SET #state = :removed, #text = :empty, attachments = :none, removed_at = :at",
                "#state = :active",
                names={"#state": "state", "#text": "text"},
                values={":removed": "removed", ":empty": "", ":none": [], ":at": removed_at,
                        ":active": "active"},
            )  # fmt: skip
            if post_counter and existing.post_id:
                tx.update(
                    keys.post(existing.post_id),
                    "SET engagement.#counter = engagement.#counter - :one",
                    "attribute_exists(pk) AND engagement.#counter >= :one",
                    names={"#counter": post_counter},
                    values={":one": 1},
                )
            try:
                self.table.commit(tx)
                return
            except ConditionFailed as failed:
                if failed.failed_indexes() != [1]:
                    return  # removed meanwhile by a repeat of this event
                # the post is gone or its counter is at zero: remove the item alone

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
