"""X: Account Activity webhooks and the API v2, both ways, in one place.

CRC: `GET ?crc_token=t` answers `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer
secret, t))}`. Deliveries carry `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(
consumer secret, raw body)>`, checked on the raw bytes in constant time.

Events acted on: `tweet_create_events` (mentions and replies; v1.1 Tweet objects, whose whole
text is `extended_tweet.full_text` when `truncated`, `full_text` in the extended mode, `text`
otherwise, and whose time is `timestamp_ms` or else `created_at`), `direct_message_events`
(`message_create`, the sender in `sender_id`) and `tweet_delete_events` (another user's post
deleted: its inbox item is marked removed). Likes, follows, blocks, typing and read receipts
and `user_event` (a revocation, which names no `for_user_id`) are acknowledged and ignored.
Authors are looked up through the API v2 (`/2/tweets/:id` with the author expanded,
`/2/users/:id`), which answers a missing object with `errors` in a 200.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ...config import Settings
from ...domain.base import Model
from ...domain.connections import Platform
from ...domain.engagement import (
    Attachment,
    EngagementDetails,
    EngagementKind,
    SocialAuthor,
    attachment,
)
from ...domain.inbound import (
    EngagementAction,
    EngagementReceived,
    Handshake,
    InboundEvent,
    NotAnEvent,
    entry_digest,
)
from ...domain.posts import PostListing
from .http import JsonHttp, unless_refused

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
        self._headers = {"Authorization": f"Bearer {settings.x_access_token.get_secret_value()}"}

    # Webhooks

    def handshake(self, query: BaseModel | None) -> Handshake:
        assert isinstance(query, CrcCheck)
        return Handshake(crc_response(self._consumer_secret, query.crc_token))

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        return verify_signature(self._consumer_secret, body, headers.get(SIGNATURE_HEADER))

    def events(self, payload: Any) -> list[InboundEvent]:
        return webhook_events(payload)

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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
