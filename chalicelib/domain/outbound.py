"""Events merchants hear about, and how we sign and deliver them (Standard Webhooks).

The catalogue (`EventType`) is versioned by `API_VERSION`: a payload's shape changes only with a
new version. Each type's `data` is one of the models below; payloads carry ids, states, amounts
and vault tokens, never personal values (names, e-mails, addresses, handles).

Every event comes from an outbox written in the same DynamoDB write as the change it reports
(see services/webhooks.py); `sequence` numbers an object's events 1, 2, 3… in commit order.

Delivery follows https://www.standardwebhooks.com: headers `webhook-id` (the event's id, the
same on every retry), `webhook-timestamp` (Unix seconds) and `webhook-signature`
(`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, space-separated when an endpoint has
two secrets during a rotation). Secrets are `whsec_` + base64 of random bytes.
"""

import base64
import hashlib
import hmac
import ipaddress
import random
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator

from .attribution import Attribution
from .base import Model
from .channels import Drift

API_VERSION = "2026-12-01"
EVENT_RETENTION_DAYS = 30
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64
MAX_ENDPOINTS_PER_MERCHANT = 16
DELIVERY_TIMEOUT_SECONDS = 15.0  # Standard Webhooks' receivers answer well within this
# After the first attempt, retry after these many seconds (each with up to 20% jitter): 5 s,
# 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, as PLATFORMS.md's schedule: > 3 days in all.
RETRY_SCHEDULE_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
    ORDER_PAYMENT_FAILED = "order.payment_failed"
    ORDER_FULFILLED = "order.fulfilled"
    ORDER_DELIVERED = "order.delivered"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_REFUNDED = "order.refunded"
    ORDER_PARTIALLY_REFUNDED = "order.partially_refunded"
    ORDER_DISPUTED = "order.disputed"
    ORDER_EXPIRED = "order.expired"
    INVENTORY_LOW = "inventory.low"
    POST_PUBLISHED = "post.published"
    POST_PUBLISH_FAILED = "post.publish_failed"
    INBOX_MESSAGE_CREATED = "inbox.message.created"
    CONNECTION_NEEDS_REAUTH = "connection.needs_reauth"
    CUSTOMER_ERASED = "customer.erased"
    WEBHOOK_ENDPOINT_DISABLED = "webhook_endpoint.disabled"
    PLATFORM_ORDER_OVERSOLD = "platform_order.oversold"
    CHANNEL_DRIFT = "channel.drift"


# Data of each event type


class OrderEventData(Model):
    """order.*: the order as it stands after the change."""

    object: Literal["order"] = "order"
    order_id: str
    status: str
    previous_status: str | None = None
    source: str
    currency: str
    total: int = Field(description="minor units")
    refunded: int = Field(0, description="minor units refunded so far")
    amount: int | None = Field(
        None, description="refund events: this refund; order.disputed: the amount disputed"
    )
    customer_token: str | None = Field(None, description="the buyer's vault token, cus_…")
    post_id: str | None = None
    reason: str | None = None
    attribution: Attribution | None = Field(
        None, description="the creator the order is attributed to, and how"
    )


class InventoryLowData(Model):
    object: Literal["variant"] = "variant"
    variant_id: str
    product_id: str
    sku: str
    available: int
    threshold: int


class PostEventData(Model):
    object: Literal["post"] = "post"
    post_id: str
    platform: str
    external_id: str | None = None
    error: str | None = Field(None, description="post.publish_failed: the platform's error code")


class InboxMessageData(Model):
    object: Literal["inbox_item"] = "inbox_item"
    inbox_item_id: str
    platform: str
    kind: str
    post_id: str | None = None
    author_token: str | None = Field(None, description="the author's vault token, cus_…")


class ConnectionNeedsReauthData(Model):
    object: Literal["connection"] = "connection"
    connection_id: str
    platform: str
    account_id: str
    reason: str


class CustomerErasedData(Model):
    object: Literal["customer"] = "customer"
    customer_token: str


class WebhookEndpointDisabledData(Model):
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    webhook_endpoint_id: str
    reason: str
    failing_since: datetime | None = None


class PlatformOrderOversoldData(Model):
    """A platform order arrived for stock already sold elsewhere: what the merchant's
    `platform_oversell` setting made of it."""

    object: Literal["platform_order"] = "platform_order"
    platform: str
    external_order_id: str
    action: Literal["cancelled", "backordered", "cancel_refused"]
    skus: list[str]
    order_id: str | None = Field(None, description="backordered: our order")
    reason: str | None = Field(None, description="cancel_refused: the platform's error")
    inbox_item_id: str


class ChannelDriftData(Model):
    """The reconciliation found a channel showing a product otherwise than we hold it, and
    repaired it (stock pushed again, catalog item edited or listed again)."""

    object: Literal["product"] = "product"
    product_id: str
    drift: list[Drift]


EVENT_DATA: dict[EventType, type[Model]] = {
    **{t: OrderEventData for t in EventType if t.value.startswith("order.")},
    EventType.INVENTORY_LOW: InventoryLowData,
    EventType.POST_PUBLISHED: PostEventData,
    EventType.POST_PUBLISH_FAILED: PostEventData,
    EventType.INBOX_MESSAGE_CREATED: InboxMessageData,
    EventType.CONNECTION_NEEDS_REAUTH: ConnectionNeedsReauthData,
    EventType.CUSTOMER_ERASED: CustomerErasedData,
    EventType.WEBHOOK_ENDPOINT_DISABLED: WebhookEndpointDisabledData,
    EventType.PLATFORM_ORDER_OVERSOLD: PlatformOrderOversoldData,
    EventType.CHANNEL_DRIFT: ChannelDriftData,
}


class Event(Model):
    """What the outbox holds and what a merchant's endpoint receives (the body, as JSON)."""

    model_config = ConfigDict(extra="forbid")

    object: Literal["event"] = "event"
    id: str = Field(description="evt_…; also the `webhook-id` header of every delivery")
    type: EventType
    api_version: str = API_VERSION
    timestamp: datetime = Field(description="when the change was committed")
    merchant_id: str
    object_id: str = Field(description="the id of the object the event is about")
    sequence: int | None = Field(
        None, description="this object's events numbered 1, 2, 3… in commit order"
    )
    data: dict[str, Any]


def new_event(
    event_id: str,
    event_type: EventType,
    merchant_id: str,
    object_id: str,
    data: Model,
    at: datetime,
) -> Event:
    assert isinstance(data, EVENT_DATA[event_type]), f"{event_type} carries the wrong data"
    return Event(
        id=event_id,
        type=event_type,
        timestamp=at,
        merchant_id=merchant_id,
        object_id=object_id,
        data=data.model_dump(mode="json", exclude_none=True),
    )


def inventory_crossed_low(before: int | None, after: int, threshold: int | None) -> bool:
    """A variant's stock fell below its threshold with this change (not: it stayed below)."""
    if threshold is None or before is None:
        return False
    return after < threshold <= before


# Endpoints


EnabledEvents = Annotated[
    list[EventType | Literal["*"]],
    Field(min_length=1, max_length=len(EventType) + 1),
]
Description = Annotated[str, Field(max_length=500)]
EndpointUrl = Annotated[str, Field(min_length=8, max_length=2048)]


def check_url_shape(url: str, allow_http: bool) -> str:
    """The URL's form; where it points is checked against its resolved addresses as well."""
    parts = urlsplit(url)
    if parts.scheme not in (("https", "http") if allow_http else ("https",)):
        raise ValueError("must be an https:// URL")
    if not parts.hostname or parts.username or parts.password or " " in url:
        raise ValueError("must be an absolute URL with a host and no credentials")
    if parts.fragment:
        raise ValueError("must not have a #fragment")
    return url


def is_public_address(address: str) -> bool:
    """Whether an IP address is one a merchant's server may have: not private, loopback,
    link-local (169.254.169.254 is the cloud's metadata service), multicast, reserved or
    unspecified, in IPv4 or IPv6 (an IPv4-mapped IPv6 address is judged as its IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if mapped is not None:
            return is_public_address(str(mapped))
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 of an IPv4 address
            return is_public_address(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def subscribed(enabled_events: list[str], event_type: str) -> bool:
    return "*" in enabled_events or event_type in enabled_events


class WebhookEndpointCreate(Model):
    model_config = ConfigDict(extra="forbid")

    url: EndpointUrl
    enabled_events: EnabledEvents
    description: Description = ""
    enabled: bool = True

    @field_validator("enabled_events")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class WebhookEndpointUpdate(Model):
    model_config = ConfigDict(extra="forbid")

    url: EndpointUrl | None = None
    enabled_events: EnabledEvents | None = None
    description: Description | None = None
    enabled: bool | None = None


class RotateSecretRequest(Model):
    model_config = ConfigDict(extra="forbid")

    grace_hours: int = Field(24, ge=0, le=7 * 24, description="how long the old secret still signs")


class SealedSecret(Model):
    """A signing secret encrypted under the webhooks key (see adapters/kms.py)."""

    ciphertext: str  # base64
    expires_at: datetime | None = None  # an old secret during a rotation


class WebhookEndpoint(Model):
    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    url: str
    enabled_events: list[str]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    secrets: list[SealedSecret]  # the current one first
    created_at: datetime
    updated_at: datetime

    def live_secrets(self, now: datetime) -> list[SealedSecret]:
        return [s for s in self.secrets if s.expires_at is None or s.expires_at > now]


class WebhookEndpointView(Model):
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    id: str
    url: str
    enabled_events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = None
    failing_since: datetime | None = None
    secret: str | None = Field(
        None, description="whsec_…: only in the answer that creates or rotates it"
    )
    created_at: datetime
    updated_at: datetime


def endpoint_view(endpoint: WebhookEndpoint, secret: str | None = None) -> WebhookEndpointView:
    return WebhookEndpointView(
        id=endpoint.id,
        url=endpoint.url,
        enabled_events=endpoint.enabled_events,
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        secret=secret,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


# Deliveries


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # retries exhausted
    CANCELLED = "cancelled"  # the endpoint was disabled or deleted


class Delivery(Model):
    """One event on its way to one endpoint: the retries are its attempts."""

    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = Field(0, description="attempts started")
    finished: int = Field(0, description="attempts finished")
    next_attempt_at: datetime
    created_at: datetime


class AttemptOutcome(Model):
    status_code: int | None = None  # None: no answer (timeout, refused, bad address)
    latency_ms: int
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class DeliveryAttemptView(Model):
    object: Literal["delivery_attempt"] = "delivery_attempt"
    id: str
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    status: Literal["succeeded", "failed"]
    response_status: int | None = None
    latency_ms: int
    error: str | None = None
    next_retry_at: datetime | None = None
    attempted_at: datetime


class EventQuery(Model):
    model_config = ConfigDict(extra="forbid")

    type: EventType | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    limit: int | None = Field(None, ge=1, le=100)
    cursor: str | None = None


class PageQuery(Model):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(None, ge=1, le=100)
    cursor: str | None = None


class RedeliverRequest(Model):
    model_config = ConfigDict(extra="forbid")

    endpoint_id: str | None = Field(None, description="only to this endpoint (default: every one)")


class RedeliverView(Model):
    object: Literal["redelivery"] = "redelivery"
    event_id: str
    deliveries: list[str]


def retry_delay(attempt: int, schedule: tuple[int, ...], rng: random.Random) -> float | None:
    """Seconds until the next attempt after failed attempt number `attempt` (1 = the first),
    with up to 20% jitter; None when the schedule is exhausted."""
    if attempt > len(schedule):
        return None
    base = schedule[attempt - 1]
    return base + rng.uniform(0, base * 0.2)


def should_disable(failing_since: datetime | None, now: datetime, after: timedelta) -> bool:
    return failing_since is not None and now - failing_since >= after


# Signing


def new_secret(random_bytes: bytes) -> str:
    return SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secrets: list[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, message_id, timestamp, body) for s in secrets),
        "content-type": "application/json",
        "user-agent": "Shoppable-Webhooks/1",
    }


def body_of(event: Event) -> bytes:
    return event.model_dump_json().encode()
