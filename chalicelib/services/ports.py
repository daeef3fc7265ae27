"""The ports every area shares: the clock, the queues, the vault and webhook receipts.

Each area's own ports (its stores, the payment gateway, the platforms) are declared in the
area's module beside the use cases that need them; `runtime.py` is the only place that
chooses what implements them.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ..domain.connections import Connection, DataDeletion, Grant, Tokens
from ..domain.events import Message
from ..domain.ids import Prefix
from ..domain.outbound import Event
from ..domain.settings import MerchantSettings
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
    """A queue our consumers read: ingest, or the webhook deliveries."""

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


class ConnectionStore(Protocol):
    """The merchants' connections and the grants behind them (services/connections.py)."""

    def for_account(self, platform: str, account_id: str) -> Connection | None: ...

    def get(self, connection_id: str) -> Connection | None: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Connection], str | None]: ...

    def of_grant(self, grant: Grant) -> list[Connection]: ...

    def grant(self, grant_id: str) -> Grant | None: ...

    def grants_of_user(self, source: str, user_id: str) -> list[Grant]: ...

    def due_for_renewal(self, now: datetime, limit: int = 100) -> list[str]: ...

    def tokens(self, grant: Grant) -> Tokens:
        """The grant's tokens, opened now: only to renew or revoke them."""
        ...

    def connect(
        self,
        grant: Grant,
        tokens: Tokens,
        connections: list[Connection],
        replacing: list[Connection],
    ) -> None:
        """All or nothing; AlreadyExists(account id) if an account is another merchant's,
        ConcurrentUpdate if a replaced connection changed meanwhile."""
        ...

    def claim_renewal(self, grant: Grant, hold_until: datetime) -> Grant | None: ...

    def renewed(
        self, grant: Grant, tokens: Tokens, renew_at: datetime | None, now: datetime
    ) -> None: ...

    def needs_reauth(
        self, grant: Grant, reason: str, now: datetime, events: list[Event]
    ) -> list[Connection]:
        """Mark the grant and its connections, with `events` into the outbox in the same
        transaction; returns the connections marked, [] (and nothing written) if the grant
        or one of its connections changed meanwhile."""
        ...

    def remove_connection(self, connection: Connection) -> Grant | None: ...

    def remove_grant(self, grant: Grant) -> list[Connection]:
        """Shred the grant's tokens and remove every connection made through it."""
        ...

    def use_state(self, nonce: str, expires_at: int) -> bool:
        """Record an authorization state's use; False if it was used already."""
        ...

    def record_deletion(self, deletion: DataDeletion) -> None: ...

    def deletion(self, confirmation_code: str) -> DataDeletion | None: ...


class SettingsStore(Protocol):
    def get(self, merchant_id: str) -> MerchantSettings: ...

    def put(
        self, merchant_id: str, settings: MerchantSettings, previous: MerchantSettings
    ) -> None: ...

    def with_meta_commerce_account(
        self, limit: int, cursor: str | None
    ) -> tuple[list[tuple[str, str]], str | None]: ...
