"""Connections: the social accounts a merchant owns, proven through the platform's OAuth.

A merchant connects accounts by authorizing our app at the platform; one authorization is a
`Grant` (the tokens it yielded, sealed, and who authorized) and covers one or more accounts,
each a `Connection` (Meta: the Facebook Pages granted and the Instagram business accounts
linked to them; TikTok Shop: the seller's shops; X and Pinterest: the user). Webhooks are
routed to a merchant through the connection of the account they are for, and every call we
make to a platform acts with the tokens of the merchant's own connection.

The `state` of an authorization is ours: HMAC-signed with a server secret, bound to the
merchant and the platform, expiring, and single-use (the store consumes its nonce with a
conditional write). Where the platform uses PKCE (X), the verifier is derived from the same
secret and the nonce, so it is never stored and never travels through the browser.
"""

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import ConfigDict, Field

from .base import Model


class Platform(StrEnum):
    INSTAGRAM = "instagram"
    FACEBOOK = "facebook"
    TIKTOK = "tiktok"
    X = "x"
    PINTEREST = "pinterest"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    # the platform refused to renew the tokens: the merchant must authorize again
    NEEDS_REAUTH = "needs_reauth"


# One authorization yields at most this many accounts: every account is written in the same
# DynamoDB transaction (100 items), so that a refused one leaves nothing behind.
MAX_ACCOUNTS_PER_GRANT = 30


class Connection(Model):
    """One account of a merchant on a platform, and the grant whose tokens act for it."""

    model_config = ConfigDict(extra="forbid")

    object: Literal["connection"] = "connection"
    id: str
    merchant_id: str
    platform: Platform
    account_id: str
    account_name: str | None = None
    grant_id: str
    status: ConnectionStatus = ConnectionStatus.ACTIVE
    reason: str | None = None  # why it needs re-authorization, in the platform's words
    # what acting for the account takes besides its token: the Page an Instagram business
    # account is reached through (`page_id`), a TikTok shop's `shop_cipher`
    details: dict[str, str] = {}
    created_at: datetime
    updated_at: datetime


class ConnectionView(Model):
    object: Literal["connection"] = "connection"
    id: str
    platform: Platform
    account_id: str
    account_name: str | None
    status: ConnectionStatus
    reason: str | None
    created_at: datetime
    updated_at: datetime


def connection_view(connection: Connection) -> ConnectionView:
    return ConnectionView.model_validate(
        connection.model_dump(include=set(ConnectionView.model_fields) - {"object"})
    )


class Disconnected(Model):
    object: Literal["connection"] = "connection"
    id: str
    deleted: Literal[True] = True
    # whether the platform revoked the tokens too (only where it has a revoke endpoint, and
    # only once no other connection of the same authorization uses them)
    revoked: bool


class Tokens(Model):
    """What an authorization yields: secrets, sealed at rest, never logged or queued."""

    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(repr=False)
    access_expires_at: datetime | None = None  # None: does not expire
    refresh_token: str | None = Field(None, repr=False)
    refresh_expires_at: datetime | None = None
    # Meta: the Page tokens derived from the user's token, by Page id
    account_tokens: dict[str, str] = Field(default_factory=dict, repr=False)


class GrantedAccount(Model):
    platform: Platform
    account_id: str
    name: str | None = None
    details: dict[str, str] = {}


class Authorization(Model):
    """A platform's answer to an authorization code: who authorized, what, and the tokens."""

    user_id: str  # the platform's id of the person or seller who authorized
    scopes: list[str] = []
    tokens: Tokens
    accounts: list[GrantedAccount]


class Grant(Model):
    """One authorization of a merchant at a platform. Its tokens are sealed beside it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    source: str  # the platform module that speaks its protocol: meta, tiktok, x, pinterest
    user_id: str
    scopes: list[str] = []
    accounts: list[str] = []  # `account_key`s of the connections it acts for
    status: ConnectionStatus = ConnectionStatus.ACTIVE
    reason: str | None = None
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    renew_at: datetime | None = None  # when the schedule renews the tokens; None: never
    version: int = 1
    created_at: datetime
    updated_at: datetime


def account_key(platform: str, account_id: str) -> str:
    """How a grant lists the accounts it covers."""
    return f"{platform}#{account_id}"


@dataclass(frozen=True)
class AccountAccess:
    """What a platform client needs to act for one account: its token and details."""

    account_id: str
    token: str = field(repr=False)
    details: dict[str, str] = field(default_factory=dict)


def access_for(connection: Connection, tokens: Tokens) -> AccountAccess:
    """The token that acts for the connection's account: a Page's own token for a Page and
    for the Instagram account linked to it (Meta), the grant's access token elsewhere."""
    page_id = connection.details.get("page_id") or connection.account_id
    token = tokens.account_tokens.get(page_id) or tokens.access_token
    return AccountAccess(connection.account_id, token, dict(connection.details))


# Renewal: well before expiry, so that a failed run of the schedule has time to be repeated.
RENEW_MARGIN = timedelta(minutes=30)


def renewal_time(tokens: Tokens, now: datetime) -> datetime | None:
    """When to renew: a quarter of the token's remaining life before it ends, and at least
    30 minutes before (X's two-hour tokens at 1 h 30); None when nothing expires."""
    ends = [t for t in (tokens.access_expires_at, tokens.refresh_expires_at) if t is not None]
    if not ends:
        return None
    first = min(ends)
    margin = max(RENEW_MARGIN, (first - now) / 4)
    return max(now, first - margin)


# The state of an authorization


class StateRefused(ValueError):
    """A state we did not issue, issued for another platform, or expired; `code` says which."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class AuthorizationState:
    merchant_id: str
    platform: Platform
    nonce: str
    expires_at: int  # unix seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: bytes, data: bytes) -> bytes:
    return hmac.new(secret, purpose + b"\x00" + data, hashlib.sha256).digest()


def sign_state(secret: bytes, state: AuthorizationState) -> str:
    payload = json.dumps(
        {"m": state.merchant_id, "p": str(state.platform), "n": state.nonce, "e": state.expires_at},
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_mac(secret, b'state', payload))}"


def read_state(secret: bytes, text: str, platform: Platform, now: int) -> AuthorizationState:
    """The state, if we signed it for `platform` and it has not expired; StateRefused if not."""
    body, _, signature = text.partition(".")
    try:
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(signature), _mac(secret, b"state", payload)):
            raise ValueError("not our signature")
        fields = json.loads(payload)
        state = AuthorizationState(
            merchant_id=str(fields["m"]),
            platform=Platform(fields["p"]),
            nonce=str(fields["n"]),
            expires_at=int(fields["e"]),
        )
    except (ValueError, TypeError, KeyError):
        raise StateRefused("state_invalid", "The state was not issued by this API.") from None
    if state.platform != platform:
        raise StateRefused("state_invalid", f"The state was issued for {state.platform}.")
    if now >= state.expires_at:
        raise StateRefused("state_expired", "The state has expired: start the connection again.")
    return state


def pkce_verifier(secret: bytes, nonce: str) -> str:
    """RFC 7636's code verifier (43 characters of base64url), derived, never stored."""
    return _b64(_mac(secret, b"pkce", nonce.encode()))


def pkce_challenge(verifier: str) -> str:
    """S256: base64url(SHA-256(verifier)), unpadded."""
    return _b64(hashlib.sha256(verifier.encode()).digest())


class DataDeletion(Model):
    """The outcome of a platform user's data deletion request (Meta's callback), kept for its
    public status page. It names no one: only the code Meta showed the user."""

    object: Literal["data_deletion"] = "data_deletion"
    confirmation_code: str
    status: Literal["completed"] = "completed"
    connections_removed: int
    requested_at: datetime
    completed_at: datetime


class DataDeletionAnswer(Model):
    """What Meta's data deletion callback answers: where the user can follow the request."""

    url: str
    confirmation_code: str


# The routes' shapes


class AuthorizationStart(Model):
    """Where to send the merchant's browser to connect accounts, until `expires_at`."""

    object: Literal["authorization"] = "authorization"
    platform: Platform
    authorize_url: str
    expires_at: datetime


class CallbackQuery(Model):
    """What the platform appends to our redirect URI: `code` and `state`, or `error`."""

    model_config = ConfigDict(extra="ignore")  # platforms add their own (locale, error_reason…)

    code: str | None = Field(None, max_length=2048)
    state: str | None = Field(None, max_length=1024)
    error: str | None = Field(None, max_length=200)
    error_description: str | None = Field(None, max_length=500)
