"""X: Account Activity webhooks and the API v2, both ways, in one place.

CRC: `GET ?crc_token=t` answers `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer
secret, t))}`. Deliveries carry `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(
consumer secret, raw body)>`, checked on the raw bytes in constant time.
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
from ...domain.engagement import EngagementKind, SocialAuthor
from ...domain.errors import PlatformError
from ...domain.inbound import (
    AccountDeauthorized,
    EngagementReceived,
    Handshake,
    NotAnEvent,
    PlatformEvent,
    entry_digest,
)
from ...domain.posts import PostListing
from .http import JsonHttp, basic_auth, bearer

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


def webhook_events(payload: Any) -> list[PlatformEvent]:
    if not isinstance(payload, dict) or not payload.get("for_user_id"):
        raise NotAnEvent("not an X account activity delivery")
    account_id = str(payload["for_user_id"])
    events: list[PlatformEvent] = []
    for tweet in payload.get("tweet_create_events") or []:
        author = (tweet.get("user") or {}).get("id_str")
        if author == account_id or not tweet.get("id_str"):
            continue  # our own tweets and replies
        events.append(
            EngagementReceived(
                source="x",
                platform=Platform.X,
                account_id=account_id,
                dedupe_id=f"tweet-{tweet['id_str']}",
                occurred_at=int(tweet.get("timestamp_ms") or 0) // 1000,
                kind=EngagementKind.MENTION,
                external_id=tweet["id_str"],
                media_id=tweet.get("in_reply_to_status_id_str"),
                text=str(tweet.get("text") or "")[:2200],
            )
        )
    for message in payload.get("direct_message_events") or []:
        created = message.get("message_create") or {}
        if message.get("type") != "message_create" or created.get("sender_id") == account_id:
            continue
        events.append(
            EngagementReceived(
                source="x",
                platform=Platform.X,
                account_id=account_id,
                dedupe_id=f"dm-{message.get('id') or entry_digest(message)}",
                occurred_at=int(message.get("created_timestamp") or 0) // 1000,
                kind=EngagementKind.MESSAGE,
                external_id=str(message.get("id")),
                text=str((created.get("message_data") or {}).get("text") or "")[:2000],
            )
        )
    return events


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

    def events(self, payload: Any) -> list[PlatformEvent]:
        return revocation_events(payload) or webhook_events(payload)

    # The API

    def author_of(self, event: EngagementReceived) -> SocialAuthor | None:
        if event.kind == EngagementKind.MESSAGE:
            return None
        found = self.http.request(
            "GET",
            f"/2/tweets/{event.external_id}",
            query={"expansions": "author_id", "user.fields": "username"},
            headers=self._headers,
        )
        users = (found.get("includes") or {}).get("users") or []
        user = users[0] if users else {}
        if not user.get("id") or not user.get("username"):
            return None
        return SocialAuthor(user_id=str(user["id"]), handle=str(user["username"]))

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


def revocation_events(payload: Any) -> list[PlatformEvent]:
    """`user_event.revoke` for the subscribed user: they took our app's access away."""
    if not isinstance(payload, dict) or not payload.get("for_user_id"):
        return []
    revoke = (payload.get("user_event") or {}).get("revoke")
    if not isinstance(revoke, dict):
        return []
    return [
        AccountDeauthorized(
            source="x",
            platform=Platform.X,
            account_id=str(payload["for_user_id"]),
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
