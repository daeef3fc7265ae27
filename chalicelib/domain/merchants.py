"""Merchants and their API keys: what a key may do is a set of scopes.

A key (`key_…`) is what its merchant manages: scopes, an optional expiry, revocation. It has
one secret, or two for a while after a roll: the new one, and the old one until its grace
period ends. Each secret is stored only as its hash, as a credential that authentication reads
in one request, carrying the key's id, merchant, scopes and when it stops working.
"""

import hashlib
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .base import Model
from .money import Currency
from .scopes import Scope

ALL_SCOPES = frozenset(Scope)


class Merchant(Model):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(min_length=1, max_length=200)
    default_currency: Currency = "EUR"
    created_at: datetime


class ApiKey(Model):
    """One secret of a key, as authentication reads it: only the secret's hash is kept."""

    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    secret_hash: str
    scopes: frozenset[Scope]
    hint: str = Field(description="The key's prefix and last four characters, for display.")
    created_at: datetime
    expires_at: datetime | None = Field(
        None, description="When this secret stops working: the key's expiry, or a roll's grace."
    )
    last_used_at: datetime | None = None

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class KeySecret(Model):
    secret_hash: str
    hint: str
    created_at: datetime
    expires_at: datetime | None = None


class KeyRecord(Model):
    """A key as its merchant manages it: the current secret first, then a rolled one still in
    its grace period. `version` guards concurrent rolls and revocations."""

    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    scopes: frozenset[Scope]
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    secrets: list[KeySecret]
    version: int = 0

    def status(self, now: datetime) -> Literal["active", "expired", "revoked"]:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


MAX_KEY_DAYS = 366
MAX_GRACE_SECONDS = 7 * 24 * 3600
DEFAULT_GRACE_SECONDS = 24 * 3600


class KeyCreate(Model):
    model_config = ConfigDict(extra="forbid")

    scopes: Annotated[list[Scope], Field(min_length=1, max_length=len(Scope))] = Field(
        description="At most the scopes of the key that creates it."
    )
    expires_at: datetime | None = Field(
        None, description="When the key stops working; at most a year ahead."
    )


class KeyRoll(Model):
    model_config = ConfigDict(extra="forbid")

    grace_seconds: int = Field(
        DEFAULT_GRACE_SECONDS,
        ge=0,
        le=MAX_GRACE_SECONDS,
        description="How long the old secret keeps working: 0 ends it now; at most 7 days.",
    )


class ApiKeyView(Model):
    object: Literal["api_key"] = "api_key"
    id: str
    prefix: str = Field(description="The current secret's prefix and last four characters.")
    scopes: list[Scope]
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="After a roll: when the old secret stops working."
    )


class NewApiKeyView(ApiKeyView):
    secret: str | None = Field(
        description="Shown once. A replay of the request (same Idempotency-Key) answers null."
    )


def key_view(record: KeyRecord, last_used: datetime | None, now: datetime) -> ApiKeyView:
    previous = [s for s in record.secrets[1:] if s.expires_at is None or s.expires_at > now]
    return ApiKeyView(
        id=record.id,
        prefix=record.secrets[0].hint,
        scopes=sorted(record.scopes),
        status=record.status(now),
        created_at=record.created_at,
        expires_at=record.expires_at,
        last_used_at=last_used,
        revoked_at=record.revoked_at,
        previous_secret_expires_at=previous[0].expires_at if previous else None,
    )


def check_expiry(expires_at: datetime | None, now: datetime, ceiling: datetime | None) -> None:
    """A new key's expiry: in the future, within a year, and no later than its creator's."""
    if expires_at is None:
        if ceiling is not None:
            raise ValueError("a key that expires can only create keys that expire too")
        return
    if expires_at.tzinfo is None:
        raise ValueError("give the time with its offset, e.g. 2030-01-01T00:00:00Z")
    if expires_at <= now:
        raise ValueError("must be in the future")
    if expires_at > now + timedelta(days=MAX_KEY_DAYS):
        raise ValueError("must be within a year")
    if ceiling is not None and expires_at > ceiling:
        raise ValueError("must not be later than the expiry of the key creating it")


def key_mode(secret: str) -> Literal["test", "live"] | None:
    if secret.startswith("sk_live_"):
        return "live"
    if secret.startswith("sk_test_"):
        return "test"
    return None


def key_secret(mode: str, random_part: str) -> str:
    """A key as the merchant sees it once: `sk_test_…` outside production, `sk_live_…` in it."""
    return f"sk_{mode}_{random_part}"


def hash_secret(secret: str) -> str:
    """Keys carry 190+ bits of randomness, so a plain SHA-256 cannot be brute-forced."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hint_for(secret: str) -> str:
    return f"{secret[:8]}…{secret[-4:]}"


def looks_like_key(secret: str) -> bool:
    return secret.startswith("sk_") and 20 <= len(secret) <= 128 and secret.isascii()


# A merchant's settings, by part. `checkout`: what one anonymous checkout may hold, and for how
# long (issue #11, stock hoarding). Other parts sit beside it under their own names.

MAX_OPEN_CHECKOUTS = 10_000
MAX_HOLD_MINUTES = 24 * 60


class CheckoutSettings(Model):
    """Limits on anonymous checkouts. Unset (null) means no limit beyond the API's own (1,000
    units a line, 99 lines) and the stack's hold time. The defaults keep honest crowds
    working: a flash sale of many buyers behind one proxy address is not a hoarder."""

    model_config = ConfigDict(extra="forbid")

    max_quantity_per_line: int | None = Field(
        None, ge=1, le=1000, description="Units of one variant one checkout may hold."
    )
    max_units_per_order: int | None = Field(
        None, ge=1, le=99_000, description="Units one checkout may hold in all."
    )
    max_open_checkouts_per_client: int | None = Field(
        None,
        ge=1,
        le=MAX_OPEN_CHECKOUTS,
        description="Unpaid checkouts one client (IP address, and X-Device-Id if sent) may "
        "hold at once.",
    )
    max_open_checkouts_per_email: int | None = Field(
        None, ge=1, le=MAX_OPEN_CHECKOUTS, description="Unpaid checkouts one email may hold."
    )
    hold_minutes: int | None = Field(
        None,
        ge=1,
        le=MAX_HOLD_MINUTES,
        description="How long an unpaid checkout holds its stock; unset: the stack's default.",
    )
