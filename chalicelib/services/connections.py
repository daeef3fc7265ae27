"""Connecting a merchant's own accounts through the platforms' OAuth, keeping their tokens
fresh, and letting them go.

- Authorize: the platform's consent URL with our signed, expiring `state` bound to the
  merchant and the platform (and a PKCE challenge where the platform uses PKCE). Nothing is
  stored: the signature proves the state is ours.
- Callback (public: the merchant's browser comes back from the platform): the state is
  checked, then used up by a conditional write (a replay finds it used); the code is exchanged
  for tokens and the accounts the grant covers are looked up; the grant, its sealed tokens and
  every account's connection are written in one transaction, on the condition that no account
  is another merchant's. Any refusal stores nothing (and revokes the tokens we will not keep,
  where the platform can).
- Renewal (schedule): each grant before its tokens expire; a refusal marks the grant and its
  connections `needs_reauth` with the platform's reason, with one `connection.needs_reauth`
  event per connection in the outbox in the same transaction, and the tokens are not used
  again until the merchant authorizes anew.
- Disconnect: the connection goes (its account's webhooks are dropped from then on); the
  grant's tokens are revoked where the platform has a revoke endpoint, and shredded, once no
  other connection uses them. Meta's deauthorize and data deletion callbacks, and TikTok's
  SELLER_DEAUTHORIZATION webhook, remove every connection of the grants concerned.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from ..domain.connections import (
    MAX_ACCOUNTS_PER_GRANT,
    Authorization,
    AuthorizationStart,
    AuthorizationState,
    CallbackQuery,
    Connection,
    ConnectionStatus,
    ConnectionView,
    DataDeletion,
    DataDeletionAnswer,
    Disconnected,
    Grant,
    Platform,
    StateRefused,
    Tokens,
    account_key,
    connection_view,
    pkce_challenge,
    pkce_verifier,
    read_state,
    renewal_time,
    sign_state,
)
from ..domain.errors import AlreadyExists, ConcurrentUpdate, PlatformError
from ..domain.ids import Prefix
from ..domain.inbound import AccountDeauthorized
from ..domain.outbound import ConnectionNeedsReauthData, Event, EventType, new_event
from ..errors import (
    Conflict,
    InvalidRequest,
    InvalidSignature,
    NotFound,
    ServiceUnavailable,
    ShoppableError,
    ValidationFailed,
)
from ..observability import logger
from .access import owned
from .ports import Clock, ConnectionStore
from .social import Social

# A claimed renewal that has not finished by then (a crash) is picked up again.
RENEWAL_HOLD = timedelta(minutes=10)


class OAuthClient(Protocol):
    """One platform's side of connecting accounts (adapters/platforms/<platform>.py)."""

    source: str
    uses_pkce: bool

    @property
    def configured(self) -> bool: ...

    def authorize_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str: ...

    def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None, now: datetime
    ) -> Authorization: ...

    def refresh(self, tokens: Tokens, now: datetime) -> Tokens: ...

    def revoke(self, tokens: Tokens) -> bool:
        """True if the platform revoked them; False where it has no revoke endpoint."""
        ...


class MetaCallbacks(Protocol):
    def signed_request_user(self, signed_request: str | None) -> str | None: ...


class AccountPlatforms(Protocol):
    def source_of(self, platform: Platform) -> str: ...

    def oauth(self, source: str) -> OAuthClient: ...


@dataclass(frozen=True)
class ConnectionSettings:
    public_api_url: str
    state_secret: bytes
    state_minutes: int


@dataclass(frozen=True)
class Connections:
    store: ConnectionStore
    platforms: AccountPlatforms
    meta: MetaCallbacks
    clock: Clock
    settings: ConnectionSettings


def _platform(name: str) -> Platform:
    try:
        return Platform(name)
    except ValueError:
        known = ", ".join(p.value for p in Platform)
        raise NotFound(f"No such platform: '{name}' (one of {known}).", param="platform") from None


def redirect_uri(connections: Connections, platform: Platform) -> str:
    return f"{connections.settings.public_api_url.rstrip('/')}/v1/connections/{platform}/callback"


def _oauth(connections: Connections, platform: Platform) -> OAuthClient:
    oauth = connections.platforms.oauth(connections.platforms.source_of(platform))
    settings = connections.settings
    if not (oauth.configured and settings.public_api_url and settings.state_secret):
        raise ServiceUnavailable(
            f"Connecting {platform} accounts is not set up on this stack (its app's id and "
            "secret, and the public API URL).",
            code="platform_not_configured",
        )
    return oauth


# Connect


def begin_authorization(
    connections: Connections, merchant_id: str, platform_name: str
) -> AuthorizationStart:
    platform = _platform(platform_name)
    oauth = _oauth(connections, platform)
    secret, clock = connections.settings.state_secret, connections.clock
    expires = clock.now() + timedelta(minutes=connections.settings.state_minutes)
    state = AuthorizationState(
        merchant_id=merchant_id,
        platform=platform,
        nonce=clock.random_token(32),
        expires_at=int(expires.timestamp()),
    )
    challenge = pkce_challenge(pkce_verifier(secret, state.nonce)) if oauth.uses_pkce else None
    url = oauth.authorize_url(
        sign_state(secret, state), redirect_uri(connections, platform), challenge
    )
    return AuthorizationStart(platform=platform, authorize_url=url, expires_at=expires)


def complete_authorization(
    connections: Connections, platform_name: str, query: CallbackQuery
) -> list[ConnectionView]:
    platform = _platform(platform_name)
    secret, now = connections.settings.state_secret, connections.clock.now()
    if not query.state or not secret:
        raise InvalidRequest("The callback carries no state.", code="state_invalid", param="state")
    try:
        state = read_state(secret, query.state, platform, int(now.timestamp()))
    except StateRefused as refused:
        raise InvalidRequest(str(refused), code=refused.code, param="state") from None
    if not connections.store.use_state(state.nonce, state.expires_at):
        raise InvalidRequest(
            "This state was used already: start the connection again.",
            code="state_used",
            param="state",
        )
    if query.error:
        reason = query.error_description or query.error
        raise InvalidRequest(
            f"{platform} did not authorize the connection: {reason}",
            code="authorization_denied",
            param="error",
        )
    if not query.code:
        raise InvalidRequest(
            "The callback carries no code.", code="parameter_missing", param="code"
        )
    oauth = _oauth(connections, platform)
    verifier = pkce_verifier(secret, state.nonce) if oauth.uses_pkce else None
    try:
        authorization = oauth.exchange(
            query.code, redirect_uri(connections, platform), verifier, now
        )
    except PlatformError as error:
        raise _exchange_refused(error) from None
    try:
        return _connect(connections, state.merchant_id, oauth.source, authorization, now)
    except ShoppableError:
        _revoke(oauth, authorization.tokens)  # tokens we will not keep
        raise


def _exchange_refused(error: PlatformError) -> ShoppableError:
    if error.retryable:
        return ServiceUnavailable(f"{error.platform} did not answer; start the connection again.")
    return InvalidRequest(
        f"{error.platform} refused the authorization code: {error.message}",
        code="authorization_failed",
        param="code",
    )


def _connect(
    connections: Connections,
    merchant_id: str,
    source: str,
    authorization: Authorization,
    now: datetime,
) -> list[ConnectionView]:
    store, clock, accounts = connections.store, connections.clock, authorization.accounts
    if not accounts:
        raise ValidationFailed(
            "The authorization covers no account we can act for (Meta: a Facebook Page, and "
            "the Instagram business account linked to it; TikTok: a shop).",
            code="no_accounts",
        )
    if len(accounts) > MAX_ACCOUNTS_PER_GRANT:
        raise ValidationFailed(
            f"At most {MAX_ACCOUNTS_PER_GRANT} accounts per authorization: select fewer.",
            code="too_many_accounts",
        )
    existing = {a.account_id: store.for_account(a.platform, a.account_id) for a in accounts}
    for account in accounts:
        found = existing[account.account_id]
        if found is not None and found.merchant_id != merchant_id:
            raise _taken(account.platform, account.account_id)
    tokens = authorization.tokens
    grant = Grant(
        id=clock.new_id(Prefix.GRANT),
        merchant_id=merchant_id,
        source=source,
        user_id=authorization.user_id,
        scopes=authorization.scopes,
        accounts=[account_key(a.platform, a.account_id) for a in accounts],
        access_expires_at=tokens.access_expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        renew_at=renewal_time(tokens, now),
        created_at=now,
        updated_at=now,
    )
    made = []
    for account in accounts:
        before = existing[account.account_id]
        made.append(
            Connection(
                id=before.id if before else clock.new_id(Prefix.CONNECTION),
                merchant_id=merchant_id,
                platform=account.platform,
                account_id=account.account_id,
                account_name=account.name,
                grant_id=grant.id,
                details=account.details,
                created_at=before.created_at if before else now,
                updated_at=now,
            )
        )
    replacing = [c for c in existing.values() if c is not None]
    try:
        store.connect(grant, tokens, made, replacing)
    except AlreadyExists as taken:
        platform = next(a.platform for a in accounts if a.account_id == str(taken))
        owner = store.for_account(platform, str(taken))
        if owner is None or owner.merchant_id != merchant_id:
            raise _taken(platform, str(taken)) from None
        raise Conflict(  # this merchant's own consent, completed meanwhile in another tab
            "These accounts were connected meanwhile: list the connections.",
            code="concurrent_update",
        ) from None
    except ConcurrentUpdate:
        raise Conflict(
            "A connection of these accounts changed meanwhile: start the connection again.",
            code="concurrent_update",
        ) from None
    for old in {c.grant_id for c in replacing}:  # grants that now act for no account
        left = store.grant(old)
        if left is not None and not left.accounts:
            store.remove_grant(left)
    logger.info(
        "accounts connected",
        extra={"source": source, "accounts": len(made), "grant_id": grant.id},
    )
    return [connection_view(c) for c in made]


def _taken(platform: Platform, account_id: str) -> Conflict:
    return Conflict(
        f"The {platform} account {account_id} is connected to another merchant.",
        code="account_connected_elsewhere",
    )


# Read


def list_connections(
    store: ConnectionStore, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[ConnectionView], str | None]:
    found, next_cursor = store.page(merchant_id, limit, cursor)
    return [connection_view(c) for c in found], next_cursor


def connection_for(
    store: ConnectionStore, merchant_id: str, platform: Platform
) -> Connection | None:
    """The merchant's account on `platform` (its first active one), None if it has none."""
    found: list[Connection] = []
    cursor = None
    while True:
        page, cursor = store.page(merchant_id, 100, cursor)
        found += [c for c in page if c.platform == platform]
        if cursor is None:
            break
    found.sort(key=lambda c: (c.status != ConnectionStatus.ACTIVE, c.created_at))
    return found[0] if found else None


# Renew


def renew_tokens(connections: Connections) -> dict[str, int]:
    """The schedule: renew every grant whose renewal time has come."""
    counts = {"renewed": 0, "needs_reauth": 0, "retry_later": 0}
    now = connections.clock.now()
    for grant_id in connections.store.due_for_renewal(now):
        grant = connections.store.grant(grant_id)
        if grant is None or grant.status != ConnectionStatus.ACTIVE:
            continue
        claimed = connections.store.claim_renewal(grant, now + RENEWAL_HOLD)
        if claimed is None:  # another run has it
            continue
        try:
            counts[_renew(connections, claimed, now)] += 1
        except Exception:  # one grant must not hold the others; it is due again after the hold
            logger.exception("token renewal failed", extra={"grant_id": grant_id})
            counts["retry_later"] += 1
    return counts


def _renew(connections: Connections, grant: Grant, now: datetime) -> str:
    oauth = connections.platforms.oauth(grant.source)
    tokens = connections.store.tokens(grant)
    try:
        fresh = oauth.refresh(tokens, now)
    except PlatformError as error:
        if error.retryable:
            logger.warning("token renewal failed; retried", extra={"grant_id": grant.id})
            return "retry_later"
        needs_reauth(connections, grant, error.message, now)
        return "needs_reauth"
    try:
        connections.store.renewed(grant, fresh, renewal_time(fresh, now), now)
    except ConcurrentUpdate:
        logger.warning("grant changed during its renewal", extra={"grant_id": grant.id})
        return "retry_later"
    return "renewed"


def needs_reauth(connections: Connections, grant: Grant, reason: str, now: datetime) -> None:
    """The platform will not renew the tokens: mark the grant and its connections, and tell
    the merchant (`connection.needs_reauth` for each connection, in the outbox with the
    mark)."""
    store = connections.store
    affected = store.of_grant(grant)
    events = [_needs_reauth_event(connections, c, reason, now) for c in affected]
    marked = store.needs_reauth(grant, reason, now, events)
    logger.warning(
        str(EventType.CONNECTION_NEEDS_REAUTH),
        extra={"grant_id": grant.id, "connections": [c.id for c in marked], "reason": reason},
    )


def _needs_reauth_event(
    connections: Connections, connection: Connection, reason: str, now: datetime
) -> Event:
    return new_event(
        connections.clock.new_id(Prefix.EVENT),
        EventType.CONNECTION_NEEDS_REAUTH,
        connection.merchant_id,
        connection.id,
        ConnectionNeedsReauthData(
            connection_id=connection.id,
            platform=str(connection.platform),
            account_id=connection.account_id,
            reason=reason,
        ),
        now,
    )


# Disconnect


def disconnect(connections: Connections, merchant_id: str, connection_id: str) -> Disconnected:
    store = connections.store
    connection = owned(store.get, Prefix.CONNECTION, merchant_id, connection_id, "connection")
    try:
        remaining = store.remove_connection(connection)
    except ConcurrentUpdate:
        raise Conflict(
            "The connection changed meanwhile; try again.", code="concurrent_update"
        ) from None
    revoked = False
    if remaining is not None and not remaining.accounts:  # the last account of its consent
        revoked = _revoke(connections.platforms.oauth(remaining.source), store.tokens(remaining))
        store.remove_grant(remaining)
    logger.info("connection removed", extra={"connection_id": connection.id, "revoked": revoked})
    return Disconnected(id=connection.id, revoked=revoked)


def _revoke(oauth: OAuthClient, tokens: Tokens) -> bool:
    """Best effort: the tokens are shredded on our side whatever the platform answers."""
    try:
        return oauth.revoke(tokens)
    except PlatformError as error:
        logger.warning("token not revoked", extra={"platform": error.platform})
        return False


# The platforms' own word: Meta's callbacks, TikTok's deauthorization webhook


def _signed_user(connections: Connections, signed_request: str | None) -> str:
    user_id = connections.meta.signed_request_user(signed_request)
    if user_id is None:
        raise InvalidSignature("signed_request is not signed with this app's secret.")
    return user_id


def _remove_user(connections: Connections, source: str, user_id: str) -> list[Connection]:
    removed: list[Connection] = []
    for grant in connections.store.grants_of_user(source, user_id):
        removed += connections.store.remove_grant(grant)
    logger.info("platform user's grants removed", extra={"source": source, "count": len(removed)})
    return removed


def meta_deauthorized(connections: Connections, signed_request: str | None) -> dict[str, bool]:
    """A person removed our app in Facebook: what they connected goes, tokens shredded."""
    _remove_user(connections, "meta", _signed_user(connections, signed_request))
    return {"received": True}


def meta_data_deletion(connections: Connections, signed_request: str | None) -> DataDeletionAnswer:
    """A person asked Meta to have us delete their data: their grants (tokens, their user id)
    and connections go now; the answer is where they can check it, by a code."""
    requested = connections.clock.now()
    removed = _remove_user(connections, "meta", _signed_user(connections, signed_request))
    code = connections.clock.random_token(24)
    connections.store.record_deletion(
        DataDeletion(
            confirmation_code=code,
            connections_removed=len(removed),
            requested_at=requested,
            completed_at=connections.clock.now(),
        )
    )
    base = connections.settings.public_api_url.rstrip("/")
    return DataDeletionAnswer(
        url=f"{base}/v1/connections/meta/data_deletion/{code}", confirmation_code=code
    )


def deletion_status(connections: Connections, confirmation_code: str) -> DataDeletion:
    found = None
    if confirmation_code.isalnum() and len(confirmation_code) <= 64:
        found = connections.store.deletion(confirmation_code)
    if found is None:
        raise NotFound(f"No such data deletion request: '{confirmation_code}'.", param="code")
    return found


def account_deauthorized(
    social: Social, connection: Connection, event: AccountDeauthorized
) -> None:
    """The consumer of TikTok's SELLER_DEAUTHORIZATION: the seller's grant goes, with every
    shop connected through it."""
    grant = social.connections.grant(connection.grant_id)
    if grant is None:
        return
    removed = social.connections.remove_grant(grant)
    logger.info(
        "seller deauthorized the app; connections removed",
        extra={"platform": event.platform, "connections": [c.id for c in removed]},
    )
