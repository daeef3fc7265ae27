"""X's API v2 and its Account Activity webhooks.

CRC: `GET ?crc_token=t` answers `{"response_token": "sha256=" + base64(HMAC-SHA256(consumer
secret, t))}`. Deliveries carry `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(
consumer secret, raw body)>`, checked on the raw bytes in constant time.
"""

import base64
import hashlib
import hmac

from .http import JsonHttp

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


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


def crc_response(consumer_secret: str, crc_token: str) -> dict:
    return {"response_token": _digest(consumer_secret, crc_token.encode())}


class XApi:
    def __init__(self, base_url: str, access_token: str, timeout: float = 5.0):
        self.http = JsonHttp("x", base_url, timeout)
        self._headers = {"Authorization": f"Bearer {access_token}"}

    def tweet_author(self, tweet_id: str) -> dict:
        found = self.http.request(
            "GET",
            f"/2/tweets/{tweet_id}",
            query={"expansions": "author_id", "user.fields": "username"},
            headers=self._headers,
        )
        users = (found.get("includes") or {}).get("users") or []
        return users[0] if users else {}

    def reply(self, tweet_id: str, text: str) -> str:
        sent = self.http.request(
            "POST",
            "/2/tweets",
            body={"text": text, "reply": {"in_reply_to_tweet_id": tweet_id}},
            headers=self._headers,
        )
        return str(sent["data"]["id"])

    def post(self, text: str) -> str:
        sent = self.http.request("POST", "/2/tweets", body={"text": text}, headers=self._headers)
        return str(sent["data"]["id"])
