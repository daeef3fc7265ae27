"""The ports every area shares: the clock, the queues, the vault and webhook receipts.

Each area's own ports (its stores, the payment gateway, the platforms) are declared in the
area's module beside the use cases that need them; `runtime.py` is the only place that
chooses what implements them.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ..domain.events import Message
from ..domain.ids import Prefix
from ..vault.models import (
    Caller,
    ConsentGiven,
    CustomerCreate,
    CustomerStatus,
    ForgottenOrder,
    Tokenized,
)


class Clock(Protocol):
    def now(self) -> datetime: ...

    def new_id(self, prefix: Prefix) -> str: ...

    def random_token(self, length: int) -> str: ...


class Digests(Protocol):
    """Keyed digests (HMAC under a server secret) of what is kept about a request."""

    def of(self, *parts: str | bytes) -> str: ...


class Publisher(Protocol):
    """A queue our consumers read (ingest, webhook deliveries)."""

    def publish(self, message: Message, delay_seconds: int = 0) -> None: ...

    def publish_all(self, messages: Sequence[Message]) -> None: ...


class CustomerVault(Protocol):
    """What services ask of the vault: tokens in, masked values and statuses out. Services
    only identify people (what a buyer or a platform hands in never changes a record); a
    profile changes only through the merchant's `POST /v1/customers`."""

    def identify(
        self,
        caller: Caller,
        customer: CustomerCreate,
        order_id: str | None = None,
        consent: ConsentGiven | None = None,
    ) -> Tokenized: ...

    def forget_order(self, caller: Caller, email: str, order_id: str) -> ForgottenOrder: ...

    def describe(self, caller: Caller, tokens: list[str]) -> list[CustomerStatus]: ...


class WebhookReceipts(Protocol):
    """Which deliveries were handled already, by their source and the source's own id."""

    def seen(self, source: str, event_id: str) -> bool: ...

    def remember(self, source: str, event_id: str, expires_at: int) -> bool: ...


# Receipts of webhook deliveries are kept this long: longer than any platform retries (Stripe
# retries for 3 days, Meta for 36 hours).
RECEIPT_DAYS = 30
