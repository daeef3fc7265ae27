"""The clock and the source of randomness for ids, behind one object tests can replace; and
the keyed digests of what the API keeps about requests."""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from ..domain.ids import Prefix, make_id

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def new_id(self, prefix: Prefix) -> str:
        return make_id(prefix, self.random_token(24))

    @staticmethod
    def random_token(length: int) -> str:
        return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class KeyedDigests:
    """HMAC-SHA256 under a server secret (SHOPPABLE_REQUEST_DIGEST_KEY, read on first use).

    What the API keeps to recognise a request or a client (an Idempotency-Key fingerprint, a
    buyer's email or address in a counter's key) is kept as this digest: a bare hash of an
    email can be reversed by hashing a list of addresses; this cannot without the key."""

    def __init__(self, key: Callable[[], bytes]):
        self._key = key

    def of(self, *parts: str | bytes) -> str:
        mac = hmac.new(self._key(), digestmod=hashlib.sha256)
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            mac.update(len(data).to_bytes(8, "big") + data)  # unambiguous: lengths first
        return mac.hexdigest()
