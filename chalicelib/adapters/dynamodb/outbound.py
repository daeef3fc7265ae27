"""Webhook endpoints, the published events (kept 30 days), and their deliveries.

A delivery (one event to one endpoint) has a key derived from both, so publishing the same
event twice finds it there. Its attempts are claimed with a condition on the attempt count, so
two copies of a queue message never send the same attempt twice; a claim carries a lease, so
an attempt whose consumer died is taken up again once the lease has run out.
"""

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from ...domain.errors import ConcurrentUpdate
from ...domain.outbound import (
    EVENT_RETENTION_DAYS,
    Delivery,
    DeliveryAttemptView,
    DeliveryStatus,
    Event,
    WebhookEndpoint,
)
from . import keys
from .outbox import add_event
from .table import ConditionFailed, MainTable, model_item, without_keys

EVENTS = "EVENTS"
ENDPOINTS = "WEBHOOK_ENDPOINTS"


def _attempts_listing(endpoint_id: str) -> str:
    return f"ATTEMPTS#{endpoint_id}"


def _as_stored(moment: datetime) -> str:
    """A time as `model_item` writes it (pydantic's JSON form)."""
    return str(TypeAdapter(datetime).dump_python(moment, mode="json"))


def _expiry(at: datetime) -> int:
    return int((at + timedelta(days=EVENT_RETENTION_DAYS)).timestamp())


class EventRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def record(self, event: Event) -> bool:
        """Keep a published event for 30 days; False if it was kept already."""
        listing = keys.listing_entry(
            event.merchant_id, EVENTS, event.timestamp.isoformat(), event.id
        )
        item = model_item(event, {**keys.event(event.id), **listing}, ttl=_expiry(event.timestamp))
        try:
            self.table.put(item, "attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def get(self, event_id: str) -> Event | None:
        item = self.table.get(keys.event(event_id))
        return Event.model_validate(without_keys(item)) if item else None

    def page(
        self,
        merchant_id: str,
        limit: int,
        cursor: str | None,
        of_type: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> tuple[list[Event], str | None]:
        page = self.table.query_listing(
            keys.merchant_listing(merchant_id, EVENTS), limit, cursor,
            created_from=created_from.isoformat() if created_from else None,
            created_to=created_to.isoformat() if created_to else None,
            of_type=of_type,
        )  # fmt: skip
        return [Event.model_validate(without_keys(i)) for i in page.items], page.next_cursor


class EndpointRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def _item(self, endpoint: WebhookEndpoint) -> dict[str, Any]:
        listing = keys.listing_entry(
            endpoint.merchant_id, ENDPOINTS, endpoint.created_at.isoformat(), endpoint.id
        )
        return model_item(endpoint, {**keys.webhook_endpoint(endpoint.id), **listing})

    def add(self, endpoint: WebhookEndpoint) -> None:
        self.table.put(self._item(endpoint), "attribute_not_exists(pk)")

    def get(self, endpoint_id: str) -> WebhookEndpoint | None:
        item = self.table.get(keys.webhook_endpoint(endpoint_id))
        return WebhookEndpoint.model_validate(without_keys(item)) if item else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[WebhookEndpoint], str | None]:
        page = self.table.query_listing(
            keys.merchant_listing(merchant_id, ENDPOINTS), limit, cursor
        )
        return [WebhookEndpoint.model_validate(without_keys(i)) for i in page.items], (
            page.next_cursor
        )

    def of_merchant(self, merchant_id: str) -> list[WebhookEndpoint]:
        found: list[WebhookEndpoint] = []
        cursor = None
        while True:
            page, cursor = self.page(merchant_id, 100, cursor)
            found += page
            if cursor is None:
                return found

    def replace(self, endpoint: WebhookEndpoint, read_at: datetime) -> None:
        """Write a changed endpoint if nobody changed it since it was read."""
        try:
            self.table.put(
                self._item(endpoint),
                "updated_at = :read",
                values={":read": _as_stored(read_at)},
            )
        except ConditionFailed as failed:
            raise ConcurrentUpdate(endpoint.id) from failed

    def delete(self, endpoint_id: str) -> None:
        self.table.delete(keys.webhook_endpoint(endpoint_id))

    def failing(self, endpoint_id: str, since: datetime) -> None:
        """Note when an endpoint began failing, unless it is failing already."""
        with suppress(ConditionFailed):
            self.table.update(
                keys.webhook_endpoint(endpoint_id), "SET failing_since = :since",
                "attribute_exists(pk) AND (attribute_not_exists(failing_since)"
                " OR attribute_type(failing_since, :null))",
                values={":since": since.isoformat(), ":null": "NULL"},
            )  # fmt: skip

    def recovered(self, endpoint_id: str) -> None:
        with suppress(ConditionFailed):
            self.table.update(
                keys.webhook_endpoint(endpoint_id), "SET failing_since = :none",
                "attribute_type(failing_since, :string)",
                values={":none": None, ":string": "S"},
            )  # fmt: skip

    def disable(self, endpoint: WebhookEndpoint, reason: str, at: datetime, event: Event) -> bool:
        """Disable an enabled endpoint and publish `event` (the merchant's notice) in the same
        write; False if it was disabled or deleted meanwhile."""
        tx = self.table.transaction()
        tx.update(
            keys.webhook_endpoint(endpoint.id),
            "SET enabled = :false, disabled_reason = :reason, updated_at = :at",
            "attribute_exists(pk) AND enabled = :true",
            values={":false": False, ":true": True, ":reason": reason, ":at": _as_stored(at)},
        )
        add_event(tx, event)
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return False
        return True


class DeliveryRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def create(self, delivery: Delivery) -> bool:
        """False if this event is already on its way to this endpoint."""
        item = model_item(delivery, keys.delivery(delivery.id), ttl=_expiry(delivery.created_at))
        try:
            self.table.put(item, "attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def get(self, delivery_id: str) -> Delivery | None:
        item = self.table.get(keys.delivery(delivery_id))
        if item is None:
            return None
        item.pop("lease_until", None)
        return Delivery.model_validate(without_keys(item))

    def claim(self, delivery: Delivery, attempt: int, now: datetime, lease: timedelta) -> bool:
        """Take attempt number `attempt`: the previous one is done, or this one's earlier
        claim has lapsed. False if another consumer has it or it is done."""
        try:
            self.table.update(
                keys.delivery(delivery.id),
                "SET attempts = :n, lease_until = :lease",
                "#status = :pending AND finished = :previous AND (attempts = :previous"
                " OR (attempts = :n AND lease_until < :now))",
                names={"#status": "status"},
                values={":n": attempt, ":previous": attempt - 1, ":pending": "pending",
                        ":now": now.isoformat(), ":lease": (now + lease).isoformat()},
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True

    def finish_attempt(
        self,
        delivery: Delivery,
        attempt: DeliveryAttemptView,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None:
        """Keep the attempt (listed under its endpoint for 30 days), then the delivery's new
        state. Two writes, not a transaction: the attempt's key is its number, so an attempt
        taken up again after a crash between them overwrites its own record."""
        listing = keys.listing_entry(
            delivery.merchant_id, _attempts_listing(delivery.endpoint_id),
            attempt.attempted_at.isoformat(), attempt.id,
        )  # fmt: skip
        self.table.put(
            model_item(
                attempt,
                {**keys.delivery_attempt(delivery.id, attempt.attempt), **listing},
                ttl=_expiry(attempt.attempted_at),
            )
        )
        self.table.update(
            keys.delivery(delivery.id),
            "SET #status = :status, next_attempt_at = :next, finished = :n REMOVE lease_until",
            "attempts = :n AND finished = :previous",
            names={"#status": "status"},
            values={":status": status.value, ":n": attempt.attempt,
                    ":previous": attempt.attempt - 1,
                    ":next": (next_attempt_at or attempt.attempted_at).isoformat()},
        )  # fmt: skip

    def cancel(self, delivery: Delivery) -> None:
        self.table.update(
            keys.delivery(delivery.id), "SET #status = :cancelled", "#status = :pending",
            names={"#status": "status"},
            values={":cancelled": DeliveryStatus.CANCELLED.value, ":pending": "pending"},
        )  # fmt: skip

    def attempts(
        self, merchant_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> tuple[list[DeliveryAttemptView], str | None]:
        page = self.table.query_listing(
            keys.merchant_listing(merchant_id, _attempts_listing(endpoint_id)), limit, cursor
        )
        return [DeliveryAttemptView.model_validate(without_keys(i)) for i in page.items], (
            page.next_cursor
        )
