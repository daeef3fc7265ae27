"""Per-customer data keys: made by KMS, stored only wrapped, kept unwrapped briefly in memory.

The cache saves a returning customer's checkout (and repeated reads) the KMS call. It is
bounded in time and size, lives in this process only, and is keyed by the wrapped key
itself: a lookup needs the wrapped key, which the vault reads from the keys table each time,
so once erasure has deleted that item no instance can use a cached copy, warm or not.
"""

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable

from ..adapters.kms import DataKey, KmsKeys

MAX_CACHED_KEYS = 1024


def key_context(merchant_id: str, token: str) -> dict[str, str]:
    """The KMS encryption context: a wrapped key opens only for its own customer."""
    return {"shoppable:merchant_id": merchant_id, "shoppable:token": token}


class DataKeyCache:
    def __init__(
        self,
        ttl_seconds: float,
        max_entries: int = MAX_CACHED_KEYS,
        now: Callable[[], float] = time.monotonic,
    ):
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.now = now
        self._entries: OrderedDict[tuple[str, bytes], tuple[float, bytes]] = OrderedDict()

    @staticmethod
    def _slot(token: str, wrapped: bytes) -> tuple[str, bytes]:
        return token, hashlib.sha256(wrapped).digest()

    def get(self, token: str, wrapped: bytes) -> bytes | None:
        slot = self._slot(token, wrapped)
        entry = self._entries.get(slot)
        if entry is None:
            return None
        expires, plaintext = entry
        if self.now() >= expires:
            self._entries.pop(slot, None)
            return None
        return plaintext

    def put(self, token: str, wrapped: bytes, plaintext: bytes) -> None:
        if self.ttl <= 0:
            return
        slot = self._slot(token, wrapped)
        self._entries.pop(slot, None)
        self._entries[slot] = (self.now() + self.ttl, plaintext)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)  # the oldest goes first

    def forget(self, token: str) -> None:
        for slot in [s for s in list(self._entries) if s[0] == token]:
            self._entries.pop(slot, None)

    def __len__(self) -> int:
        return len(self._entries)


class DataKeys:
    def __init__(self, kms: KmsKeys, cache: DataKeyCache):
        self.kms = kms
        self.cache = cache

    def create(self, merchant_id: str, token: str) -> DataKey:
        key = self.kms.generate_data_key(key_context(merchant_id, token))
        self.cache.put(token, key.wrapped, key.plaintext)
        return key

    def unwrap(self, merchant_id: str, token: str, wrapped: bytes) -> bytes:
        plaintext = self.cache.get(token, wrapped)
        if plaintext is None:
            plaintext = self.kms.decrypt_data_key(wrapped, key_context(merchant_id, token))
            self.cache.put(token, wrapped, plaintext)
        return plaintext

    def forget(self, token: str) -> None:
        self.cache.forget(token)
