"""Onboarding merchants and authenticating their API keys."""

from collections.abc import Set
from dataclasses import dataclass
from typing import Protocol

from ..domain.errors import StoreRefused
from ..domain.ids import Prefix
from ..domain.merchants import (
    ALL_SCOPES,
    ApiKey,
    Merchant,
    hash_secret,
    hint_for,
    key_secret,
    looks_like_key,
)
from ..domain.scopes import Scope
from ..errors import AuthenticationFailed, NotFound, PermissionDenied
from .ports import Clock


class MerchantStore(Protocol):
    def add(self, merchant: Merchant, first_key: ApiKey) -> None:
        """The merchant and its first key appear together or not at all."""
        ...

    def add_key(self, key: ApiKey) -> None:
        """Another key for an existing merchant; StoreRefused if the merchant is gone."""
        ...

    def get(self, merchant_id: str) -> Merchant | None: ...

    def key_by_hash(self, secret_hash: str) -> ApiKey | None: ...


@dataclass(frozen=True)
class Merchants:
    store: MerchantStore
    clock: Clock


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class NewMerchant:
    merchant: Merchant
    api_key: ApiKey
    secret: str  # shown once, never stored


def _new_key(clock: Clock, merchant_id: str, scopes: Set[Scope], live: bool) -> tuple[ApiKey, str]:
    secret = key_secret("live" if live else "test", clock.random_token(40))
    api_key = ApiKey(
        id=clock.new_id(Prefix.API_KEY),
        merchant_id=merchant_id,
        secret_hash=hash_secret(secret),
        scopes=frozenset(scopes),
        hint=hint_for(secret),
        created_at=clock.now(),
    )
    return api_key, secret


def create_merchant(
    merchants: Merchants,
    name: str,
    scopes: Set[Scope] = ALL_SCOPES,
    currency: str = "EUR",
    live: bool = False,
) -> NewMerchant:
    clock = merchants.clock
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
    merchants: Merchants, merchant_id: str, scopes: Set[Scope], live: bool = False
) -> NewKey:
    """Another key for a merchant, e.g. one that may only read customers for fulfilment."""
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
    key = merchants.store.key_by_hash(hash_secret(secret))
    if key is None:
        raise AuthenticationFailed("The API key is not valid.")
    return key


def require(key: ApiKey, scope: Scope | frozenset[Scope]) -> None:
    """`scope`, or any one of a set of scopes (the handler then checks which one applies)."""
    wanted = scope if isinstance(scope, frozenset) else frozenset({scope})
    if not any(key.allows(s) for s in wanted):
        names = "' or '".join(sorted(wanted))
        raise PermissionDenied(f"This API key lacks the scope '{names}'.")
