"""API keys: a merchant lists, creates, rolls and revokes its own keys (`key_…`).

A secret is shown once, in the answer that creates or rolls it; the idempotency record keeps
the answer without it, so a replay shows the key with `secret: null` (roll again if it was
lost). Revocation takes effect with the next request: keys are read from the store on every
request, never cached.
"""

from typing import Any

from ..domain.listing import ListOf, ListQuery, listing
from ..domain.merchants import ApiKeyView, KeyCreate, KeyRoll, NewApiKeyView
from ..domain.scopes import Scope
from ..services import merchants
from ..web import Call, Replay, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


def _keep_without_secret(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "secret": None}


def _answer_kept(call: Call, kept: dict[str, Any]) -> dict[str, Any]:
    return kept


SECRET_SHOWN_ONCE = Replay(keep=_keep_without_secret, answer=_answer_kept)


@routes.route(
    "/v1/keys",
    "GET",
    scope=Scope.KEYS_READ,
    query=ListQuery,
    returns=ListOf[ApiKeyView],
    summary="List this merchant's API keys: prefix, scopes, created, last used; never secrets",
)
def list_keys(call: Call) -> ListOf[ApiKeyView]:
    found, cursor = merchants.list_keys(
        call.rt.merchants, call.merchant_id, call.page_size(), call.query.cursor
    )
    return listing(found, cursor)


@routes.route(
    "/v1/keys",
    "POST",
    scope=Scope.KEYS_WRITE,
    body=KeyCreate,
    returns=NewApiKeyView,
    status=201,
    idempotent=True,
    replay=SECRET_SHOWN_ONCE,
    summary="Create a key with at most this key's scopes, optionally expiring; secret shown once",
)
def create_key(call: Call) -> NewApiKeyView:
    assert call.key is not None
    return merchants.create_key(call.rt.merchants, call.key, call.body)


@routes.route(
    "/v1/keys/{key_id}",
    "DELETE",
    scope=Scope.KEYS_WRITE,
    returns=ApiKeyView,
    summary="Revoke a key: every request with its secrets is refused from now on",
)
def revoke_key(call: Call, key_id: str) -> ApiKeyView:
    assert call.key is not None
    return merchants.revoke_key(call.rt.merchants, call.key, key_id)


@routes.route(
    "/v1/keys/{key_id}/roll",
    "POST",
    scope=Scope.KEYS_WRITE,
    body=KeyRoll,
    returns=NewApiKeyView,
    idempotent=True,
    replay=SECRET_SHOWN_ONCE,
    summary="A new secret for a key; the old one keeps working for a grace period, then expires",
)
def roll_key(call: Call, key_id: str) -> NewApiKeyView:
    assert call.key is not None
    return merchants.roll_key(call.rt.merchants, call.key, key_id, call.body)
