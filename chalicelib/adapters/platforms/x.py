"""X: Account Activity webhooks and the API v2, both ways, in one place.

CRC: `GET ?crc_token=t` answers `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer
secret, t))}`. Deliveries carry `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(
consumer secret, raw body)>`, checked on the raw bytes in constant time.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...config import Settings
from ...domain.base import Model
from ...domain.connections import Platform
from ...domain.engagement import EngagementKind, SocialAuthor
from ...domain.inbound import (
    EngagementReceived,
    Handshake,
    NotAnEvent,
    PlatformEvent,
    entry_digest,
)
from ...domain.posts import PostListing
from .http import JsonHttp

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
        self._headers = {"Authorization": f"Bearer {settings.x_access_token.get_secret_value()}"}

    # Webhooks

    def handshake(self, query: BaseModel | None) -> Handshake:
        assert isinstance(query, CrcCheck)
        return Handshake(crc_response(self._consumer_secret, query.crc_token))

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_signature(self._consumer_secret, body, headers.get(SIGNATURE_HEADER))

    def events(self, payload: Any) -> list[PlatformEvent]:
        return webhook_events(payload)

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
