"""The social platforms' side: their webhooks in, and what the consumers need to act on them.

The webhook route does as little as the contract allows, so that it answers far inside the
platforms' limits (Meta 5 s, TikTok and X 3 s) however busy the store is: check the signature
on the raw bytes, split the delivery into one event per entry (the platform's module does
both), and queue them in one SQS call per ten. Routing to the merchant (the account's
connection) and de-duplication (the platform's id, or a digest of the entry) happen in the
consumer, before any work: both are reads the route would otherwise pay for on every
delivery, and the consumers are idempotent anyway. A delivery for an account no merchant has
connected is acknowledged and dropped there with a log line, so the platform does not retry
it for days.

Nothing personal goes onto the queue: the events hold object ids and attachment links, the
text of a comment or message waits in the store under a ref for a few days at most (a queued
or dead-lettered message outlives an erasure; the stored text goes to the inbox, whose copy
erasure strips), and the consumer asks the platform for an author and hands it straight to
the vault.

A platform's dashboard test (Meta's "Test" button, for an account id no one can connect) is
acknowledged and logged as `webhook test received` with the field it tests, and counted; it
is never queued. A signed body that is not a delivery (not JSON, nested past any delivery's
depth, or of another shape) is 400, never 500.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, TypeAdapter

from ..domain.connections import Connection, Platform
from ..domain.engagement import Attachment, EngagementDetails, InboxItem
from ..domain.events import Message
from ..domain.inbound import (
    AccountDeauthorized,
    CancellationChanged,
    EngagementReceived,
    Handshake,
    InboundEvent,
    NotAnEvent,
    OrderStatusChanged,
    PlatformEvent,
    SubscriptionTest,
    message_type,
    parse_delivery,
)
from ..domain.outbound import Event
from ..domain.platform_orders import PlatformOrder
from ..domain.posts import PostListing
from ..errors import InvalidRequest, InvalidSignature
from ..observability import count, logger
from .catalog import ProductStore
from .channels import Channels
from .orders import Sales
from .ports import (
    RECEIPT_DAYS,
    Clock,
    ConnectionStore,
    CustomerVault,
    Publisher,
    SettingsStore,
    WebhookReceipts,
)
from .posts import PostStore

# Ports: what the social use cases need of the stores and of each platform's module.


class InboxStore(Protocol):
    def add(self, item: InboxItem, counter: str | None = None, event: Event | None = None) -> bool:
        """False if the item was there already; `counter`: the post's count to raise with it;
        `event`: into the outbox with it."""
        ...

    def get(self, item_id: str) -> InboxItem | None: ...

    def edit(
        self, item_id: str, text: str, attachments: list[Attachment] | None, edited_at: datetime
    ) -> bool:
        """Replace the text of an item not removed (and its attachments, unless None), unless
        a later edit is there already; False if nothing changed."""
        ...

    def remove(self, item: InboxItem, counter: str | None = None) -> None:
        """Mark the item removed, its text and attachments dropped, and lower the post's
        `counter` with it; an item not there yet is kept as removed (a removal may arrive
        before the object it removes)."""
        ...

    def set_reply(self, item_id: str, outcome: str, error: str | None = None) -> None: ...

    def stash_texts(self, texts: dict[str, str], expires_at: int) -> None:
        """Keep each text under its ref for the consumer (until `expires_at`, unix seconds)."""
        ...

    def stashed_text(self, ref: str) -> str | None: ...

    def drop_text(self, ref: str) -> None: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[InboxItem], str | None]: ...


class WebhookSource(Protocol):
    def handshake(self, query: BaseModel | None) -> Handshake: ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool: ...

    def events(self, payload: Any) -> list[InboundEvent]:
        """One event per entry of the delivery; NotAnEvent if it is not one."""
        ...

    @property
    def signature_header(self) -> str: ...


class EngagementApi(Protocol):
    def details_of(self, event: EngagementReceived) -> EngagementDetails:
        """What the platform tells of the object beyond the webhook (its text where the
        webhook has none, its author); what it refuses to tell is left None."""
        ...

    def send_checkout_link(self, event: EngagementReceived, text: str) -> None: ...


class PostPublisher(Protocol):
    def publish(self, platform: Platform, listing: PostListing) -> str:
        """The post's id on the platform; PlatformError when it refuses or fails."""
        ...


class OrderLookup(Protocol):
    def order(self, order_id: str) -> PlatformOrder: ...

    def approve_cancellation(self, cancel_id: str, idempotency_key: str) -> None: ...

    def reject_cancellation(
        self, cancel_id: str, reason: str, comment: str | None, idempotency_key: str
    ) -> None: ...

    def cancel_out_of_stock(self, order_id: str, skus: list[str]) -> None:
        """The seller cancels the order for want of stock, with the platform's own reason;
        one cancelled already counts as done."""
        ...


class OrderFeed(Protocol):
    def new_orders(self, account_id: str, platform: Platform) -> list[PlatformOrder]: ...

    def acknowledge_order(self, order: PlatformOrder, reference: str) -> None: ...


class Platforms(Protocol):
    """Each platform's module; acting for an account, with that account's own token (a
    PlatformError when the connection cannot be used)."""

    def webhook(self, source: str) -> WebhookSource: ...

    def engagement(self, connection: Connection) -> EngagementApi: ...

    def publisher(self, connection: Connection) -> PostPublisher: ...

    def order_lookup(self, connection: Connection) -> OrderLookup: ...

    def order_feed(self, connection: Connection) -> OrderFeed: ...


@dataclass(frozen=True)
class SocialSettings:
    storefront_url: str
    publish_max_attempts: int
    publish_retry_seconds: int


@dataclass(frozen=True)
class Social:
    platforms: Platforms
    connections: ConnectionStore
    merchant_settings: SettingsStore
    posts: PostStore
    products: ProductStore
    inbox: InboxStore
    receipts: WebhookReceipts
    queue: Publisher
    vault: CustomerVault
    sales: Sales
    clock: Clock
    channels: Channels  # Instagram's product tags take the Meta catalog's product ids
    settings: SocialSettings


# The webhook routes


def handshake(social: Social, source: str, query: BaseModel | None) -> Handshake:
    return social.platforms.webhook(source).handshake(query)


def receive_webhook(
    social: Social, source: str, raw: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    platform = social.platforms.webhook(source)
    if not platform.verify(raw, headers):
        raise InvalidSignature(f"{platform.signature_header} does not sign this body.")
    try:
        found = platform.events(parse_delivery(raw))
    except (NotAnEvent, ValueError) as error:  # ValueError: a field of an unexpected type
        raise InvalidRequest(f"Not a {source} webhook delivery.", code="invalid_event") from error
    kinds = EngagementReceived | OrderStatusChanged | CancellationChanged | AccountDeauthorized
    events: list[
        EngagementReceived | OrderStatusChanged | CancellationChanged | AccountDeauthorized
    ] = []
    for event in found:
        if isinstance(event, SubscriptionTest):
            logger.info("webhook test received", extra={"source": source, "field": event.field})
            count("WebhookTestsReceived", source=source, field=event.field)
        elif isinstance(event, kinds):
            events.append(event)
    if not found:
        logger.info("webhook delivery with nothing we act on", extra={"source": source})
    now = social.clock.now()
    texts: dict[str, str] = {}
    queued = [_without_text(source, event, texts) for event in events]
    if texts:
        social.inbox.stash_texts(texts, int(now.timestamp()) + TEXT_STASH_SECONDS)
    social.queue.publish_all(
        [
            Message(
                id=f"{source}-{event.account_id}-{event.dedupe_id}"[:128],
                type=message_type(event),
                occurred_at=now,
                data=event.model_dump(mode="json"),
            )
            for event in queued
        ]
    )
    return {"received": True, "events": len(events)}


# A stashed text waits this long for its consumer: longer than the ingest queue keeps a message
# (SQS's default, 4 days), so a retried message still finds it.
TEXT_STASH_SECONDS = 4 * 24 * 3600 + 3600


def _without_text(
    source: str,
    event: EngagementReceived | OrderStatusChanged | CancellationChanged | AccountDeauthorized,
    texts: dict[str, str],
) -> EngagementReceived | OrderStatusChanged | CancellationChanged | AccountDeauthorized:
    """The event as queued: its text left in `texts` under a ref the event carries."""
    if not isinstance(event, EngagementReceived) or not event.text:
        return event
    ref = f"{source}-{event.account_id}-{event.dedupe_id}"[:200]
    texts[ref] = event.text
    return event.model_copy(update={"text": "", "text_ref": ref})


# The consumer side

_EVENT: TypeAdapter[PlatformEvent] = TypeAdapter(PlatformEvent, config=ConfigDict(defer_build=True))


def routed(
    handler: Callable[[Social, Connection, Any], None],
) -> Callable[[Social, Message], None]:
    """Wrap an event handler: drop repeats, find the merchant's connection of the account,
    handle (acting for the account with that connection's token), then remember it."""

    def handle(social: Social, message: Message) -> None:
        event = _EVENT.validate_python(message.data)
        if social.receipts.seen(event.source, event.receipt_key):
            logger.info("repeated delivery dropped", extra={"dedupe_id": event.dedupe_id})
            return
        connection = social.connections.for_account(event.platform, event.account_id)
        if connection is None:  # never connected, or disconnected: its webhooks stop here
            logger.warning(
                "no merchant has connected this account; event dropped",
                extra={"platform": event.platform, "account_id": event.account_id,
                       "type": message.type},
            )  # fmt: skip
            count("WebhookEventsIgnored", source=event.source, reason="not_connected")
            return
        handler(social, connection, event)
        expires = int(social.clock.now().timestamp()) + RECEIPT_DAYS * 86400
        social.receipts.remember(event.source, event.receipt_key, expires)

    return handle
