"""X: Account Activity webhooks and the API v2, both ways, in one place.

CRC: `GET ?crc_token=t` answers `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer
secret, t))}`. Deliveries carry `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(
consumer secret, raw body)>`, checked on the raw bytes in constant time.

Events acted on: `tweet_create_events` (mentions and replies; v1.1 Tweet objects, whose whole
text is `extended_tweet.full_text` when `truncated`, `full_text` in the extended mode, `text`
otherwise, and whose time is `timestamp_ms` or else `created_at`), `direct_message_events`
(`message_create`, the sender in `sender_id`), `tweet_delete_events` (another user's post
deleted: its inbox item is marked removed) and `user_event.revoke` (the user took our app's
access away: the account's connection goes; it names the user in `source.user_id`, not in
`for_user_id`). Likes, follows, blocks, typing and read receipts are acknowledged and ignored.
Authors are looked up through the API v2 (`/2/tweets/:id` with the author expanded,
`/2/users/:id`), which answers a missing object with `errors` in a 200.
"""

import base64
import copy
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field

from ...config import Settings
from ...domain.base import Model
from ...domain.connections import AccountAccess, Authorization, GrantedAccount, Platform, Tokens
from ...domain.engagement import (
    Attachment,
    EngagementDetails,
    EngagementKind,
    SocialAuthor,
    attachment,
)
from ...domain.errors import PlatformError
from ...domain.inbound import (
    AccountDeauthorized,
    EngagementAction,
    EngagementReceived,
    Handshake,
    InboundEvent,
    NotAnEvent,
    entry_digest,
)
from ...domain.posts import PostListing
from .http import JsonHttp, basic_auth, bearer, unless_refused

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


class CrcCheck(Model):
    """The query of X's challenge-response check."""

    model_config = ConfigDict(extra="ignore")

    crc_token: str = Field(min_length=1, max_length=200)


def _digest(secret: str, data: bytes) -> str:
    return (
        "sha256="
        + base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()
    )


def signature(consumer_secret: str, body: bytes) -> str:
    return _digest(consumer_secret, body)


def verify_signature(consumer_secret: str, body: bytes, header: str | None) -> bool:
    if not consumer_secret or not header:
        return False
    return hmac.compare_digest(signature(consumer_secret, body).encode(), header.strip().encode())


def crc_response(consumer_secret: str, crc_token: str) -> dict[str, str]:
    return {"response_token": _digest(consumer_secret, crc_token.encode())}


def webhook_events(payload: Any) -> list[InboundEvent]:
    if not isinstance(payload, dict):
        raise NotAnEvent("not an X account activity delivery")
    if not payload.get("for_user_id"):
        if "user_event" in payload:
            return []  # a revocation: it names the user in `source`, not in `for_user_id`
        raise NotAnEvent("not an X account activity delivery")
    account_id = str(payload["for_user_id"])
    common = {"source": "x", "platform": Platform.X, "account_id": account_id}
    events: list[InboundEvent] = []
    for tweet in _objects(payload.get("tweet_create_events")):
        author = str(_dict(tweet.get("user")).get("id_str") or "") or None
        if author == account_id or not tweet.get("id_str"):
            continue  # our own tweets and replies
        events.append(
            EngagementReceived(
                **common,
                dedupe_id=f"tweet-{tweet['id_str']}",
                occurred_at=tweet_time(tweet),
                kind=EngagementKind.MENTION,
                external_id=str(tweet["id_str"]),
                media_id=tweet.get("in_reply_to_status_id_str"),
                text=tweet_text(tweet)[:25_000],
            )
        )
    for message in _objects(payload.get("direct_message_events")):
        created = _dict(message.get("message_create"))
        sender = str(created.get("sender_id") or "") or None
        if message.get("type") != "message_create" or sender == account_id:
            continue  # our own messages
        data = _dict(created.get("message_data"))
        events.append(
            EngagementReceived(
                **common,
                dedupe_id=f"dm-{message.get('id') or entry_digest(message)}",
                occurred_at=_number(message.get("created_timestamp")) // 1000,
                kind=EngagementKind.MESSAGE,
                external_id=str(message.get("id") or entry_digest(message)),
                text=str(data.get("text") or "")[:10_000],
                attachments=_dm_attachments(data),
                author_id=sender,
            )
        )
    for deleted in _objects(payload.get("tweet_delete_events")):
        status = _dict(deleted.get("status"))
        if not status.get("id") or str(status.get("user_id")) == account_id:
            continue  # our own posts are not in the inbox
        events.append(
            EngagementReceived(
                **common,
                action=EngagementAction.REMOVE,
                dedupe_id=f"tweet-{status['id']}-deleted",
                occurred_at=_number(deleted.get("timestamp_ms")) // 1000,
                kind=EngagementKind.MENTION,
                external_id=str(status["id"]),
            )
        )
    return events


def tweet_text(tweet: dict[str, Any]) -> str:
    """The whole text: a long post's root `text` is cut at 140 characters."""
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and extended.get("full_text"):
        return str(extended["full_text"])
    return str(tweet.get("full_text") or tweet.get("text") or "")


def tweet_time(tweet: dict[str, Any]) -> int:
    """Unix seconds: `timestamp_ms` where the delivery has it, else `created_at`
    ("Mon May 19 14:01:46 +0000 2025")."""
    if tweet.get("timestamp_ms"):
        return _number(tweet["timestamp_ms"]) // 1000
    try:
        return int(datetime.strptime(str(tweet.get("created_at")), _CREATED_AT).timestamp())
    except ValueError:
        return 0


_CREATED_AT = "%a %b %d %H:%M:%S %z %Y"


def _dm_attachments(data: dict[str, Any]) -> list[Attachment]:
    media = _dict(_dict(data.get("attachment")).get("media"))
    if not media:
        return []
    return [attachment(str(media.get("type") or "media"), media.get("media_url_https"))]


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _number(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class X:
    name = "x"
    platforms = (Platform.X,)
    receives_webhooks = True
    signature_header = "x-twitter-webhooks-signature"
    handshake_query: type[BaseModel] | None = CrcCheck
    handshake_summary = "X's challenge-response check (CRC)"
    webhook_summary = "X account activity, verified by x-twitter-webhooks-signature"

    def __init__(self, settings: Settings):
        self._consumer_secret = settings.x_consumer_secret.get_secret_value()
        self.http = JsonHttp("x", settings.x_api_url, settings.platform_timeout_seconds)
        self._token: str | None = None  # acting for no one until `acting_as`

    def acting_as(self, access: AccountAccess) -> "X":
        """This client acting for one merchant's X account, with its user token."""
        acting = copy.copy(self)
        acting._token = access.token
        return acting

    @property
    def _headers(self) -> dict[str, str]:
        if not self._token:
            raise PlatformError("x", 0, "not acting for a connected account", retryable=False)
        return bearer(self._token)

    # Webhooks

    def handshake(self, query: BaseModel | None) -> Handshake:
        assert isinstance(query, CrcCheck)
        return Handshake(crc_response(self._consumer_secret, query.crc_token))

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_signature(self._consumer_secret, body, headers.get(SIGNATURE_HEADER))

    def events(self, payload: Any) -> list[InboundEvent]:
        return revocation_events(payload) or webhook_events(payload)

    # The API

    def details_of(self, event: EngagementReceived) -> EngagementDetails:
        """Who wrote: a post's author through the post (its author expanded), a direct
        message's sender by id. A missing or hidden one is unknown."""
        if event.kind == EngagementKind.MESSAGE:
            if event.author_id is None:
                return EngagementDetails()
            found = unless_refused("x", "user", lambda: self._get(
                f"/2/users/{event.author_id}", {"user.fields": "username,name"}))  # fmt: skip
            user = _dict(_dict(found).get("data"))
        else:
            found = unless_refused("x", "tweet", lambda: self._get(
                f"/2/tweets/{event.external_id}",
                {"expansions": "author_id", "user.fields": "username,name"}))  # fmt: skip
            users = _dict(_dict(found).get("includes")).get("users") or []
            user = users[0] if users and isinstance(users[0], dict) else {}
        if not user.get("id") or not user.get("username"):
            return EngagementDetails()
        author = SocialAuthor(
            user_id=str(user["id"]), handle=str(user["username"]), name=user.get("name")
        )
        return EngagementDetails(author=author)

    def _get(self, path: str, query: dict[str, str]) -> Any:
        return self.http.request("GET", path, query=query, headers=self._headers)

    def send_checkout_link(self, event: EngagementReceived, text: str) -> None:
        self.http.request(
            "POST",
            "/2/tweets",
            body={"text": text, "reply": {"in_reply_to_tweet_id": event.external_id}},
            headers=self._headers,
        )

    def publish(self, platform: Platform, listing: PostListing) -> str:
        text = f"{listing.post.caption} {listing.link}".strip()
        sent = self.http.request("POST", "/2/tweets", body={"text": text}, headers=self._headers)
        return str(sent["data"]["id"])


# Connecting accounts (OAuth 2.0 Authorization Code with PKCE)
#
# The user revoking our app arrives as Account Activity's `user_event` (`revoke`): the
# account's connection goes.
# `x.com/i/oauth2/authorize` with `code_challenge` (S256); the code is exchanged at
# `POST /2/oauth2/token` (form: `code`, `grant_type=authorization_code`, `redirect_uri`,
# `code_verifier`; we are a confidential client: HTTP Basic `client_id:client_secret`).
# Access tokens last two hours; `offline.access` brings a refresh token, renewed with
# `grant_type=refresh_token`; `POST /2/oauth2/revoke` revokes a token.


def revocation_events(payload: Any) -> list[InboundEvent]:
    """`user_event.revoke`: a user took our app's access away. X's published delivery names
    no `for_user_id`; the user is `revoke.source.user_id` (the subscribed user)."""
    if not isinstance(payload, dict):
        return []
    revoke = _dict(payload.get("user_event")).get("revoke")
    if not isinstance(revoke, dict):
        return []
    user = _dict(revoke.get("source")).get("user_id") or payload.get("for_user_id")
    if not isinstance(user, str | int) or not str(user):
        return []
    return [
        AccountDeauthorized(
            source="x",
            platform=Platform.X,
            account_id=str(user),
            dedupe_id=f"revoke-{entry_digest(revoke)}",
            occurred_at=0,
        )
    ]


class XOAuth:
    source = "x"
    uses_pkce = True

    def __init__(self, settings: Settings):
        self._client_id = settings.x_client_id
        self._client_secret = settings.x_client_secret.get_secret_value()
        self._authorize_url = settings.x_authorize_url
        self._scopes = settings.x_scopes
        self.http = JsonHttp("x", settings.x_api_url, settings.platform_timeout_seconds)

    @property
    def configured(self) -> bool:
        return bool(self._client_id and self._client_secret)

    def authorize_url(self, state: str, redirect_uri: str, code_challenge: str | None) -> str:
        assert code_challenge, "X requires PKCE"
        params = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": redirect_uri,
            "scope": " ".join(self._scopes),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        }
        return f"{self._authorize_url}?{urlencode(params)}"

    def _token(self, form: dict[str, str], now: datetime) -> tuple[Tokens, list[str]]:
        answer = self.http.request(
            "POST", "/2/oauth2/token", form=form,
            headers=basic_auth(self._client_id, self._client_secret),
        )  # fmt: skip
        expires = answer.get("expires_in")
        tokens = Tokens(
            access_token=str(answer["access_token"]),
            access_expires_at=now + timedelta(seconds=int(expires)) if expires else None,
            refresh_token=str(answer["refresh_token"]) if answer.get("refresh_token") else None,
        )
        return tokens, str(answer.get("scope") or "").split()

    def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None, now: datetime
    ) -> Authorization:
        tokens, scopes = self._token(
            {"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri,
             "code_verifier": code_verifier or ""},
            now,
        )  # fmt: skip
        me = self.http.request("GET", "/2/users/me", headers=bearer(tokens.access_token))
        user = me.get("data") or {}
        return Authorization(
            user_id=str(user["id"]),
            scopes=scopes,
            tokens=tokens,
            accounts=[
                GrantedAccount(
                    platform=Platform.X, account_id=str(user["id"]), name=user.get("username")
                )
            ],
        )

    def refresh(self, tokens: Tokens, now: datetime) -> Tokens:
        if not tokens.refresh_token:
            raise PlatformError("x", 0, "no refresh token: offline.access was not granted", False)
        renewed, _ = self._token(
            {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}, now
        )
        return renewed

    def revoke(self, tokens: Tokens) -> bool:
        """Revoke the refresh token, then the access token."""
        pairs = [(tokens.refresh_token, "refresh_token"), (tokens.access_token, "access_token")]
        for token, hint in pairs:
            if token:
                self.http.request(
                    "POST", "/2/oauth2/revoke",
                    form={"token": token, "token_type_hint": hint},
                    headers=basic_auth(self._client_id, self._client_secret),
                )  # fmt: skip
        return True


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
