"""Receipts of webhook deliveries already queued, to drop the platforms' repeats early.

Consumers are idempotent anyway; a receipt only saves the queue a duplicate.
"""

from . import keys
from .schema import TTL_ATTRIBUTE
from .table import ConditionFailed, MainTable


class WebhookReceipts:
    def __init__(self, table: MainTable):
        self.table = table

    def seen(self, source: str, event_id: str) -> bool:
        return self.table.get(keys.webhook_receipt(source, event_id), consistent=True) is not None

    def remember(self, source: str, event_id: str, expires_at: int) -> bool:
        """False if another delivery of the same event was remembered first."""
        item = {**keys.webhook_receipt(source, event_id), TTL_ATTRIBUTE: expires_at}
        try:
            self.table.put(item, "attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True
