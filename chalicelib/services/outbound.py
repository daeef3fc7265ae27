"""Merchants hear about everything: the outbox's events, their endpoints, and delivery.

    state change + its event ──one DynamoDB write──▶ main table (outbox item per object)
          ──stream, in commit order per object──▶ `publish_changes`: keep the event (30 days),
          one delivery per subscribed endpoint ──webhook queue──▶ `attempt_delivery`: sign,
          POST, record the attempt; retry with backoff; disable an endpoint failing too long.

Exactly once per committed change: an event's id is fixed when its change commits, and every
step after it is keyed on that id (the event record, a delivery per event and endpoint, an
attempt claimed by number), so a stream record read twice, or a queue message delivered twice,
changes nothing. What merchants receive is at least once (a receiver that answered 2xx too
late gets the attempt again); `webhook-id` is the same on every retry, for them to de-duplicate.
"""

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..domain.errors import ConcurrentUpdate
from ..domain.events import Message
from ..domain.ids import Prefix
from ..domain.outbound import (
    MAX_ENDPOINTS_PER_MERCHANT,
    AttemptOutcome,
    Delivery,
    DeliveryAttemptView,
    DeliveryStatus,
    Event,
    EventQuery,
    EventType,
    RedeliverRequest,
    RedeliverView,
    RotateSecretRequest,
    SealedSecret,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointDisabledData,
    WebhookEndpointUpdate,
    WebhookEndpointView,
    body_of,
    check_url_shape,
    endpoint_view,
    new_event,
    new_secret,
    retry_delay,
    should_disable,
    signed_headers,
    subscribed,
)
from ..errors import Conflict, ValidationFailed
from ..observability import logger
from .access import owned
from .ports import Clock, Publisher

DELIVERY_JOB = "webhook.delivery"
MAX_QUEUE_DELAY_SECONDS = 900  # SQS's longest delay; longer waits are chained
CLAIM_LEASE = timedelta(seconds=90)


class EventStore(Protocol):
    def record(self, event: Event) -> bool: ...

    def get(self, event_id: str) -> Event | None: ...

    def page(
        self,
        merchant_id: str,
        limit: int,
        cursor: str | None,
        of_type: str | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> tuple[list[Event], str | None]: ...


class EndpointStore(Protocol):
    def add(self, endpoint: WebhookEndpoint) -> None: ...

    def get(self, endpoint_id: str) -> WebhookEndpoint | None: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[WebhookEndpoint], str | None]: ...

    def of_merchant(self, merchant_id: str) -> list[WebhookEndpoint]: ...

    def replace(self, endpoint: WebhookEndpoint, read_at: datetime) -> None: ...

    def delete(self, endpoint_id: str) -> None: ...

    def failing(self, endpoint_id: str, since: datetime) -> None: ...

    def recovered(self, endpoint_id: str) -> None: ...

    def disable(
        self, endpoint: WebhookEndpoint, reason: str, at: datetime, event: Event
    ) -> bool: ...


class DeliveryStore(Protocol):
    def create(self, delivery: Delivery) -> bool: ...

    def get(self, delivery_id: str) -> Delivery | None: ...

    def claim(self, delivery: Delivery, attempt: int, now: datetime, lease: timedelta) -> bool: ...

    def finish_attempt(
        self,
        delivery: Delivery,
        attempt: DeliveryAttemptView,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> None: ...

    def cancel(self, delivery: Delivery) -> None: ...

    def attempts(
        self, merchant_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> tuple[list[DeliveryAttemptView], str | None]: ...


class OutboxStream(Protocol):
    def events_of(self, record: dict[str, Any]) -> list[Event]: ...


class Sender(Protocol):
    def check_destination(self, url: str) -> None:
        """Raise ValueError if the URL leads somewhere we do not post to."""
        ...

    def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptOutcome: ...


class SecretBox(Protocol):
    def seal(self, secret: str, context: dict[str, str]) -> str: ...

    def open(self, sealed: str, context: dict[str, str]) -> str: ...


@dataclass(frozen=True)
class OutboundSettings:
    allow_http: bool = False  # dev only: plain http and private addresses
    retry_schedule: tuple[int, ...] = ()
    disable_after: timedelta = timedelta(days=5)


@dataclass(frozen=True)
class Outbound:
    """What the outbound webhooks' use cases need, wired by the composition root."""

    events: EventStore
    endpoints: EndpointStore
    deliveries: DeliveryStore
    stream: OutboxStream
    queue: Publisher
    sender: Sender
    secrets: SecretBox
    clock: Clock
    settings: OutboundSettings
    rng: random.Random = field(default_factory=random.Random)


# Endpoints


def _context(endpoint: WebhookEndpoint) -> dict[str, str]:
    return {"merchant": endpoint.merchant_id, "webhook_endpoint": endpoint.id}


def _checked_url(outbound: Outbound, url: str) -> str:
    try:
        check_url_shape(url, allow_http=outbound.settings.allow_http)
        outbound.sender.check_destination(url)
    except ValueError as refused:
        raise ValidationFailed(f"url: {refused}", code="url_invalid", param="url") from None
    return url


def _new_secret(outbound: Outbound, endpoint: WebhookEndpoint) -> tuple[str, SealedSecret]:
    secret = new_secret(outbound.clock.random_token(32).encode())
    return secret, SealedSecret(ciphertext=outbound.secrets.seal(secret, _context(endpoint)))


def create_endpoint(
    outbound: Outbound, merchant_id: str, request: WebhookEndpointCreate
) -> WebhookEndpointView:
    url = _checked_url(outbound, request.url)
    if len(outbound.endpoints.of_merchant(merchant_id)) >= MAX_ENDPOINTS_PER_MERCHANT:
        raise Conflict(
            f"A merchant has at most {MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints.",
            code="too_many_endpoints",
        )
    now = outbound.clock.now()
    endpoint = WebhookEndpoint(
        id=outbound.clock.new_id(Prefix.WEBHOOK_ENDPOINT),
        merchant_id=merchant_id,
        url=url,
        enabled_events=[str(e) for e in request.enabled_events],
        description=request.description,
        enabled=request.enabled,
        secrets=[],
        created_at=now,
        updated_at=now,
    )
    secret, sealed = _new_secret(outbound, endpoint)
    endpoint = endpoint.model_copy(update={"secrets": [sealed]})
    outbound.endpoints.add(endpoint)
    return endpoint_view(endpoint, secret)


def owned_endpoint(outbound: Outbound, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    return owned(
        outbound.endpoints.get, Prefix.WEBHOOK_ENDPOINT, merchant_id, endpoint_id,
        "webhook endpoint",
    )  # fmt: skip


def get_endpoint(outbound: Outbound, merchant_id: str, endpoint_id: str) -> WebhookEndpointView:
    return endpoint_view(owned_endpoint(outbound, merchant_id, endpoint_id))


def list_endpoints(
    outbound: Outbound, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[WebhookEndpointView], str | None]:
    found, next_cursor = outbound.endpoints.page(merchant_id, limit, cursor)
    return [endpoint_view(e) for e in found], next_cursor


def _replace(outbound: Outbound, endpoint: WebhookEndpoint, changed: WebhookEndpoint) -> None:
    try:
        outbound.endpoints.replace(changed, endpoint.updated_at)
    except ConcurrentUpdate as race:
        raise Conflict(
            "The endpoint changed meanwhile; read it again.", code="concurrent_update"
        ) from race


def update_endpoint(
    outbound: Outbound, merchant_id: str, endpoint_id: str, request: WebhookEndpointUpdate
) -> WebhookEndpointView:
    endpoint = owned_endpoint(outbound, merchant_id, endpoint_id)
    changes: dict[str, Any] = request.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in changes:
        _checked_url(outbound, changes["url"])
    if "enabled_events" in changes:
        changes["enabled_events"] = list(dict.fromkeys(str(e) for e in changes["enabled_events"]))
    if changes.get("enabled"):  # enabling again starts afresh
        changes.update(disabled_reason=None, failing_since=None)
    changes["updated_at"] = max(
        outbound.clock.now(), endpoint.updated_at + timedelta(microseconds=1)
    )
    changed = endpoint.model_copy(update=changes)
    _replace(outbound, endpoint, changed)
    return endpoint_view(changed)


def delete_endpoint(outbound: Outbound, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
    endpoint = owned_endpoint(outbound, merchant_id, endpoint_id)
    outbound.endpoints.delete(endpoint.id)
    return {"object": "webhook_endpoint", "id": endpoint.id, "deleted": True}


def rotate_secret(
    outbound: Outbound, merchant_id: str, endpoint_id: str, request: RotateSecretRequest
) -> WebhookEndpointView:
    """A new secret signs from now on; the current one keeps signing too (both signatures in
    `webhook-signature`) for `grace_hours`, so receivers can switch without missing one."""
    endpoint = owned_endpoint(outbound, merchant_id, endpoint_id)
    now = outbound.clock.now()
    secret, sealed = _new_secret(outbound, endpoint)
    current = endpoint.live_secrets(now)[:1]
    old = [s.model_copy(update={"expires_at": now + timedelta(hours=request.grace_hours)})
           for s in current if request.grace_hours > 0]  # fmt: skip
    changed = endpoint.model_copy(
        update={
            "secrets": [sealed, *old],
            "updated_at": max(now, endpoint.updated_at + timedelta(microseconds=1)),
        }
    )
    _replace(outbound, endpoint, changed)
    return endpoint_view(changed, secret)


def list_attempts(
    outbound: Outbound, merchant_id: str, endpoint_id: str, limit: int, cursor: str | None
) -> tuple[list[DeliveryAttemptView], str | None]:
    endpoint = owned_endpoint(outbound, merchant_id, endpoint_id)
    return outbound.deliveries.attempts(merchant_id, endpoint.id, limit, cursor)


# Events


def list_events(
    outbound: Outbound, merchant_id: str, query: EventQuery, limit: int
) -> tuple[list[Event], str | None]:
    return outbound.events.page(
        merchant_id, limit, query.cursor, query.type.value if query.type else None,
        query.created_from, query.created_to,
    )  # fmt: skip


def get_event(outbound: Outbound, merchant_id: str, event_id: str) -> Event:
    return owned(outbound.events.get, Prefix.EVENT, merchant_id, event_id, "event")


def redeliver(
    outbound: Outbound, merchant_id: str, event_id: str, request: RedeliverRequest
) -> RedeliverView:
    """Send a kept event again, to one endpoint or to every enabled one subscribed to it."""
    event = get_event(outbound, merchant_id, event_id)
    if request.endpoint_id is not None:
        endpoints = [owned_endpoint(outbound, merchant_id, request.endpoint_id)]
        if not endpoints[0].enabled:
            raise Conflict("The endpoint is disabled; enable it first.", code="endpoint_disabled")
    else:
        endpoints = [
            e for e in outbound.endpoints.of_merchant(merchant_id)
            if e.enabled and subscribed(e.enabled_events, event.type)
        ]  # fmt: skip
    ids = [_deliver(outbound, event, e, outbound.clock.new_id(Prefix.DELIVERY)) for e in endpoints]
    return RedeliverView(event_id=event.id, deliveries=ids)


# Publication: the outbox stream's consumer


EventConsumer = Callable[[Event], None]


def publish_changes(
    outbound: Outbound,
    records: Iterable[dict[str, Any]],
    consumers: Sequence[EventConsumer] = (),
) -> None:
    """Publish each record's events, then hand each to our own consumers (the funnel, the
    commission ledger), in the same order. Each consumer is idempotent on the event (its
    writes are conditional on the object's last event applied): a failure makes the record
    come again, and what already ran changes nothing the second time."""
    for record in records:
        for event in outbound.stream.events_of(record):
            publish(outbound, event)
            for consume in consumers:
                consume(event)


def publish(outbound: Outbound, event: Event) -> None:
    """Keep the event and start one delivery per subscribed endpoint; safe to repeat."""
    if outbound.events.record(event):
        logger.info("event published", extra={"event_id": event.id, "type": event.type})
    for endpoint in outbound.endpoints.of_merchant(event.merchant_id):
        if endpoint.enabled and subscribed(endpoint.enabled_events, event.type):
            _deliver(outbound, event, endpoint, _delivery_id(event.id, endpoint.id))


def _delivery_id(event_id: str, endpoint_id: str) -> str:
    return f"{Prefix.DELIVERY}_{event_id.partition('_')[2]}{endpoint_id.partition('_')[2]}"


def _deliver(outbound: Outbound, event: Event, endpoint: WebhookEndpoint, delivery_id: str) -> str:
    now = outbound.clock.now()
    delivery = Delivery(
        id=delivery_id, merchant_id=event.merchant_id, endpoint_id=endpoint.id,
        event_id=event.id, event_type=event.type, next_attempt_at=now, created_at=now,
    )  # fmt: skip
    if not outbound.deliveries.create(delivery):
        existing = outbound.deliveries.get(delivery_id)
        if existing is None or existing.status != DeliveryStatus.PENDING or existing.attempts:
            return delivery_id  # under way already
    _enqueue(outbound, delivery, attempt=1, delay=0)
    return delivery_id


def _enqueue(outbound: Outbound, delivery: Delivery, attempt: int, delay: float) -> None:
    outbound.queue.publish(
        Message(
            id=f"{delivery.id}-{attempt}",
            type=DELIVERY_JOB,
            merchant_id=delivery.merchant_id,
            occurred_at=outbound.clock.now(),
            data={"delivery_id": delivery.id, "attempt": attempt},
        ),
        delay_seconds=min(max(int(delay + 0.999), 0), MAX_QUEUE_DELAY_SECONDS),
    )


# Delivery: the webhook queue's consumer


def attempt_delivery(outbound: Outbound, message: Message) -> None:
    """One attempt of one delivery, when it is due; then the next one is queued, or not."""
    delivery = outbound.deliveries.get(str(message.data.get("delivery_id", "")))
    attempt = int(message.data.get("attempt", 0))
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    if attempt <= delivery.finished:
        if attempt == delivery.finished:
            # This attempt is done, but its follow-up may not have been queued (the consumer
            # failed after recording it): queue it. A copy queued after all loses at `claim`.
            _enqueue_next(outbound, delivery)
        return
    if attempt != delivery.finished + 1:
        return  # a stale copy
    now = outbound.clock.now()
    wait = (delivery.next_attempt_at - now).total_seconds()
    if wait > 1:
        _enqueue(outbound, delivery, attempt, wait)  # longer than one queue delay: chained
        return
    endpoint = outbound.endpoints.get(delivery.endpoint_id)
    if endpoint is None or not endpoint.enabled:
        outbound.deliveries.cancel(delivery)
        return
    event = outbound.events.get(delivery.event_id)
    if event is None:  # past its 30 days
        outbound.deliveries.cancel(delivery)
        return
    if not outbound.deliveries.claim(delivery, attempt, now, CLAIM_LEASE):
        return
    secrets = [outbound.secrets.open(s.ciphertext, _context(endpoint))
               for s in endpoint.live_secrets(now)]  # fmt: skip
    body = body_of(event)
    headers = signed_headers(secrets, event.id, int(now.timestamp()), body)
    outcome = outbound.sender.send(endpoint.url, headers, body)
    _record(outbound, delivery, endpoint, attempt, outcome)


def _record(
    outbound: Outbound,
    delivery: Delivery,
    endpoint: WebhookEndpoint,
    attempt: int,
    outcome: AttemptOutcome,
) -> None:
    done = outbound.clock.now()
    delay = None if outcome.succeeded or outcome.status_code == 410 else (
        retry_delay(attempt, outbound.settings.retry_schedule, outbound.rng)
    )  # fmt: skip
    if outcome.succeeded:
        status = DeliveryStatus.SUCCEEDED
    else:
        status = DeliveryStatus.FAILED if delay is None else DeliveryStatus.PENDING
    next_at = done + timedelta(seconds=delay) if delay is not None else None
    view = DeliveryAttemptView(
        id=outbound.clock.new_id(Prefix.DELIVERY_ATTEMPT),
        delivery_id=delivery.id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        attempt=attempt,
        status="succeeded" if outcome.succeeded else "failed",
        response_status=outcome.status_code,
        latency_ms=outcome.latency_ms,
        error=outcome.error,
        next_retry_at=next_at,
        attempted_at=done,
    )
    outbound.deliveries.finish_attempt(delivery, view, status, next_at)
    logger.info(
        "webhook attempt",
        extra={"delivery_id": delivery.id, "attempt": attempt, "status": view.status,
               "response_status": outcome.status_code, "latency_ms": outcome.latency_ms},
    )  # fmt: skip
    if outcome.succeeded:
        if endpoint.failing_since is not None:
            outbound.endpoints.recovered(endpoint.id)
        return
    if outcome.status_code == 410:
        _disable(outbound, endpoint, "the endpoint answered 410 Gone", done)
        return
    if endpoint.failing_since is None:
        outbound.endpoints.failing(endpoint.id, done)
    elif should_disable(endpoint.failing_since, done, outbound.settings.disable_after):
        hours = outbound.settings.disable_after.total_seconds() / 3600
        _disable(outbound, endpoint, f"every attempt failed for {hours:g} hours", done)
        return
    if next_at is not None:
        moved = delivery.model_copy(
            update={"attempts": attempt, "finished": attempt, "next_attempt_at": next_at}
        )
        _enqueue_next(outbound, moved)


def _enqueue_next(outbound: Outbound, delivery: Delivery) -> None:
    wait = (delivery.next_attempt_at - outbound.clock.now()).total_seconds()
    _enqueue(outbound, delivery, delivery.attempts + 1, max(wait, 0))


def _disable(outbound: Outbound, endpoint: WebhookEndpoint, reason: str, at: datetime) -> None:
    """Disable the endpoint and tell the merchant, through the outbox like every event (their
    other endpoints hear `webhook_endpoint.disabled`; the endpoint shows `disabled_reason`)."""
    notice = new_event(
        outbound.clock.new_id(Prefix.EVENT), EventType.WEBHOOK_ENDPOINT_DISABLED,
        endpoint.merchant_id, endpoint.id,
        WebhookEndpointDisabledData(
            webhook_endpoint_id=endpoint.id, reason=reason, failing_since=endpoint.failing_since
        ),
        at,
    )  # fmt: skip
    if outbound.endpoints.disable(endpoint, reason, at, notice):
        logger.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint.id,
                                                           "reason": reason})  # fmt: skip
