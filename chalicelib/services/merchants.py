"""Onboarding merchants, authenticating their API keys, and the keys' lifecycle.

A key is checked on every request against the store (one strongly consistent read, no cache):
a revoked key is refused by the next request, an expired one from the moment it expires. A
stack refuses keys of the other mode: a live stage takes only `sk_live_` keys, every other
stage only `sk_test_` keys, so a test key leaked from a laptop never reaches live data.

Key management is by key, within the merchant, and never upwards: a key creates, rolls or
revokes only keys whose scopes are a subset of its own (a narrow key with `keys:write` cannot
roll the owner's key to learn a secret with more scopes, nor revoke it).
"""

from collections.abc import Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ..domain.errors import StoreRefused
from ..domain.ids import Prefix, has_prefix
from ..domain.merchants import (
    ALL_SCOPES,
    ApiKey,
    ApiKeyView,
    KeyCreate,
    KeyRecord,
    KeyRoll,
    Merchant,
    NewApiKeyView,
    check_expiry,
    hash_secret,
    hint_for,
    key_mode,
    key_secret,
    key_view,
    looks_like_key,
)
from ..domain.scopes import Scope
from ..errors import (
    AuthenticationFailed,
    Conflict,
    NotFound,
    PermissionDenied,
    ShoppableError,
    ValidationFailed,
)
from ..observability import logger
from .ports import Clock

# How precisely "last used" is kept: one write per secret per period, not one per request.
LAST_USED_PERIOD = timedelta(minutes=5)


class MerchantStore(Protocol):
    def add(self, merchant: Merchant, first_key: ApiKey) -> None:
        """The merchant and its first key appear together or not at all."""
        ...

    def add_key(self, key: ApiKey) -> None:
        """Another key for an existing merchant; StoreRefused if the merchant is gone."""
        ...

    def get(self, merchant_id: str) -> Merchant | None: ...

    def key_by_hash(self, secret_hash: str) -> ApiKey | None:
        """Strongly consistent: a secret revoked a moment ago is not found."""
        ...

    def mark_used(self, secret_hash: str, at: datetime, if_before: datetime) -> None: ...

    def key_record(self, key_id: str) -> KeyRecord | None: ...

    def key_page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[KeyRecord], str | None]: ...

    def last_used(self, secret_hashes: list[str]) -> dict[str, datetime]: ...

    def revoke(self, record: KeyRecord, at: datetime) -> bool:
        """False if the key changed meanwhile."""
        ...

    def roll(self, record: KeyRecord, new: ApiKey, grace_until: datetime, now: datetime) -> bool:
        """False if the key changed meanwhile."""
        ...


@dataclass(frozen=True)
class Merchants:
    store: MerchantStore
    clock: Clock
    live: bool = False  # a live stage: only sk_live_ keys, and the keys it issues are live


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class NewMerchant:
    merchant: Merchant
    api_key: ApiKey
    secret: str  # shown once, never stored


def _new_key(
    clock: Clock,
    merchant_id: str,
    scopes: Set[Scope],
    live: bool,
    key_id: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    secret = key_secret("live" if live else "test", clock.random_token(40))
    api_key = ApiKey(
        id=key_id or clock.new_id(Prefix.API_KEY),
        merchant_id=merchant_id,
        secret_hash=hash_secret(secret),
        scopes=frozenset(scopes),
        hint=hint_for(secret),
        created_at=clock.now(),
        expires_at=expires_at,
    )
    return api_key, secret


def create_merchant(
    merchants: Merchants,
    name: str,
    scopes: Set[Scope] = ALL_SCOPES,
    currency: str = "EUR",
    live: bool | None = None,
) -> NewMerchant:
    """`live`: the mode of its first key; by default the stack's (a live stage: live)."""
    clock = merchants.clock
    live = merchants.live if live is None else live
    merchant = Merchant(
        id=clock.new_id(Prefix.MERCHANT),
        name=name,
        default_currency=currency,
        created_at=clock.now(),
    )
    api_key, secret = _new_key(clock, merchant.id, scopes, live)
    merchants.store.add(merchant, api_key)
    return NewMerchant(merchant, api_key, secret)


def issue_key(
    merchants: Merchants, merchant_id: str, scopes: Set[Scope], live: bool | None = None
) -> NewKey:
    """Another key for a merchant, e.g. one that may only read customers for fulfilment."""
    live = merchants.live if live is None else live
    api_key, secret = _new_key(merchants.clock, merchant_id, scopes, live)
    try:
        merchants.store.add_key(api_key)
    except StoreRefused as error:
        raise NotFound(f"No such merchant: '{merchant_id}'.", param="merchant_id") from error
    return NewKey(api_key, secret)


def authenticate(merchants: Merchants, authorization: str | None) -> ApiKey:
    if not authorization:
        raise AuthenticationFailed(
            "Send your API key as 'Authorization: Bearer sk_…'.", code="missing_api_key"
        )
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not looks_like_key(secret):
        raise AuthenticationFailed("The Authorization header is not 'Bearer sk_…'.")
    mode = key_mode(secret)
    wanted = "live" if merchants.live else "test"
    if mode != wanted:
        raise AuthenticationFailed(
            f"This stack accepts only sk_{wanted}_ keys.", code="api_key_mode_mismatch"
        )
    key = merchants.store.key_by_hash(hash_secret(secret))
    if key is None:
        raise AuthenticationFailed("The API key is not valid.")
    now = merchants.clock.now()
    if key.expired(now):
        raise AuthenticationFailed("The API key has expired.", code="api_key_expired")
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_PERIOD:
        try:
            merchants.store.mark_used(key.secret_hash, now, now - LAST_USED_PERIOD)
        except ShoppableError:  # bookkeeping: never the reason a request fails
            logger.warning("key use not recorded", extra={"key_id": key.id})
    return key


# The key lifecycle: GET/POST /v1/keys, DELETE /v1/keys/{id}, POST /v1/keys/{id}/roll


def list_keys(
    merchants: Merchants, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[ApiKeyView], str | None]:
    records, next_cursor = merchants.store.key_page(merchant_id, limit, cursor)
    used = merchants.store.last_used([s.secret_hash for r in records for s in r.secrets])
    now = merchants.clock.now()
    views = [
        key_view(r, max((used[s.secret_hash] for s in r.secrets if s.secret_hash in used),
                        default=None), now)
        for r in records
    ]  # fmt: skip
    return views, next_cursor


def create_key(merchants: Merchants, caller: ApiKey, request: KeyCreate) -> NewApiKeyView:
    """A key with at most the caller's scopes, expiring no later than the caller does."""
    scopes = frozenset(request.scopes)
    _within(caller, scopes, "scopes")
    now = merchants.clock.now()
    try:
        check_expiry(request.expires_at, now, caller.expires_at)
    except ValueError as error:
        raise ValidationFailed(f"expires_at: {error}.", param="expires_at") from error
    api_key, secret = _new_key(
        merchants.clock, caller.merchant_id, scopes, merchants.live, expires_at=request.expires_at
    )
    try:
        merchants.store.add_key(api_key)
    except StoreRefused as error:
        raise NotFound(f"No such merchant: '{caller.merchant_id}'.") from error
    logger.info("api key created", extra={"key_id": api_key.id, "by": caller.id})
    record = merchants.store.key_record(api_key.id)
    assert record is not None
    return _shown(record, secret, now)


def revoke_key(merchants: Merchants, caller: ApiKey, key_id: str) -> ApiKeyView:
    """Revoked at once: its secrets are deleted, so the next request with one is 401."""
    now = merchants.clock.now()
    for _ in range(3):
        record = _managed(merchants, caller, key_id)
        if record.revoked_at is not None:
            return key_view(record, None, now)
        if merchants.store.revoke(record, now):
            logger.info("api key revoked", extra={"key_id": key_id, "by": caller.id})
            revoked = merchants.store.key_record(key_id)
            assert revoked is not None
            return key_view(revoked, None, now)
    raise Conflict("The key changed meanwhile; retry.", code="concurrent_update")


def roll_key(merchants: Merchants, caller: ApiKey, key_id: str, request: KeyRoll) -> NewApiKeyView:
    """A new secret for the key; the old one works for `grace_seconds` more (never past the
    key's own expiry), and a secret rolled before and still in its grace ends now."""
    now = merchants.clock.now()
    record = _managed(merchants, caller, key_id)
    if record.status(now) != "active":
        raise Conflict(
            f"The key is {record.status(now)}; it cannot be rolled.", code="key_inactive"
        )
    grace_until = now + timedelta(seconds=request.grace_seconds)
    if record.expires_at is not None:
        grace_until = min(grace_until, record.expires_at)
    new, secret = _new_key(
        merchants.clock, record.merchant_id, record.scopes, merchants.live, record.id,
        record.expires_at,
    )  # fmt: skip
    if not merchants.store.roll(record, new, grace_until, now):
        raise Conflict("The key changed meanwhile; retry.", code="concurrent_update")
    logger.info("api key rolled", extra={"key_id": key_id, "by": caller.id})
    rolled = merchants.store.key_record(key_id)
    assert rolled is not None
    return _shown(rolled, secret, now)


def operator(merchants: Merchants, merchant_id: str) -> ApiKey:
    """The operator's CLI acting on a merchant's keys: every scope, no secret of its own."""
    return ApiKey(
        id="operator",
        merchant_id=merchant_id,
        secret_hash="",
        scopes=ALL_SCOPES,
        hint="",
        created_at=merchants.clock.now(),
    )


def _managed(merchants: Merchants, caller: ApiKey, key_id: str) -> KeyRecord:
    """The merchant's key, if the caller may manage it (404 for another merchant's)."""
    record = merchants.store.key_record(key_id) if has_prefix(key_id, Prefix.API_KEY) else None
    if record is None or record.merchant_id != caller.merchant_id:
        raise NotFound(f"No such key: '{key_id}'.", param="id")
    _within(caller, record.scopes, "id")
    return record


def _within(caller: ApiKey, scopes: frozenset[Scope], param: str) -> None:
    beyond = sorted(scopes - caller.scopes)
    if beyond:
        raise PermissionDenied(
            f"This API key may only manage keys within its own scopes (not {', '.join(beyond)}).",
            code="scope_not_held",
            param=param,
        )


def _shown(record: KeyRecord, secret: str, now: datetime) -> NewApiKeyView:
    return NewApiKeyView(**key_view(record, None, now).model_dump(), secret=secret)


def require(key: ApiKey, scope: Scope | frozenset[Scope]) -> None:
    """`scope`, or any one of a set of scopes (the handler then checks which one applies)."""
    wanted = scope if isinstance(scope, frozenset) else frozenset({scope})
    if not any(key.allows(s) for s in wanted):
        names = "' or '".join(sorted(wanted))
        raise PermissionDenied(f"This API key lacks the scope '{names}'.")
