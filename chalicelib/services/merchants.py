"""Onboarding merchants and authenticating their API keys."""

from dataclasses import dataclass

from ..adapters.dynamodb.table import ConditionFailed
from ..domain.ids import Prefix
from ..domain.merchants import (
    ALL_SCOPES,
    ApiKey,
    Merchant,
    Scope,
    hash_secret,
    hint_for,
    key_secret,
    looks_like_key,
)
from ..errors import AuthenticationFailed, NotFound, PermissionDenied


@dataclass(frozen=True)
class NewKey:
    api_key: ApiKey
    secret: str  # shown once, never stored


@dataclass(frozen=True)
class NewMerchant:
    merchant: Merchant
    api_key: ApiKey
    secret: str  # shown once, never stored


def _new_key(clock, merchant_id: str, scopes, live: bool) -> tuple[ApiKey, str]:
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
    merchants, clock, name: str, scopes=ALL_SCOPES, currency: str = "EUR", live: bool = False
) -> NewMerchant:
    merchant = Merchant(
        id=clock.new_id(Prefix.MERCHANT),
        name=name,
        default_currency=currency,
        created_at=clock.now(),
    )
    api_key, secret = _new_key(clock, merchant.id, scopes, live)
    merchants.add(merchant, api_key)
    return NewMerchant(merchant, api_key, secret)


def issue_key(merchants, clock, merchant_id: str, scopes, live: bool = False) -> NewKey:
    """Another key for a merchant, e.g. one that may only read customers for fulfilment."""
    api_key, secret = _new_key(clock, merchant_id, scopes, live)
    try:
        merchants.add_key(api_key)
    except ConditionFailed as error:
        raise NotFound(f"No such merchant: '{merchant_id}'.", param="merchant_id") from error
    return NewKey(api_key, secret)


def authenticate(merchants, authorization: str | None) -> ApiKey:
    if not authorization:
        raise AuthenticationFailed(
            "Send your API key as 'Authorization: Bearer sk_…'.", code="missing_api_key"
        )
    scheme, _, secret = authorization.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not looks_like_key(secret):
        raise AuthenticationFailed("The Authorization header is not 'Bearer sk_…'.")
    key = merchants.key_by_hash(hash_secret(secret))
    if key is None:
        raise AuthenticationFailed("The API key is not valid.")
    return key


def require(key: ApiKey, scope: Scope | frozenset[Scope]) -> None:
    """`scope`, or any one of a set of scopes (the handler then checks which one applies)."""
    wanted = scope if isinstance(scope, frozenset) else frozenset({scope})
    if not any(key.allows(s) for s in wanted):
        names = "' or '".join(sorted(wanted))
        raise PermissionDenied(f"This API key lacks the scope '{names}'.")
