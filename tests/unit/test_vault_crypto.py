"""Sealing and the data-key cache: what fails must fail loudly, never decrypt to garbage."""

import os

import pytest

from chalicelib.adapters.kms import DataKey
from chalicelib.vault.keyring import DataKeyCache, DataKeys, key_context
from chalicelib.vault.sealing import SealBroken, open_sealed, seal

KEY = os.urandom(32)


def test_seal_round_trip_and_fresh_nonces():
    one = seal(KEY, "cus_a", "email", b'"jane@example.com"')
    two = seal(KEY, "cus_a", "email", b'"jane@example.com"')
    assert one != two
    assert b"jane" not in one
    assert open_sealed(KEY, "cus_a", "email", one) == b'"jane@example.com"'


@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_any_changed_byte_is_rejected(position):
    sealed = bytearray(seal(KEY, "cus_a", "email", b'"jane@example.com"'))
    sealed[position] ^= 0x01
    with pytest.raises(SealBroken):
        open_sealed(KEY, "cus_a", "email", bytes(sealed))


def test_truncated_value_is_rejected():
    with pytest.raises(SealBroken):
        open_sealed(KEY, "cus_a", "email", seal(KEY, "cus_a", "email", b"x")[:20])


def test_value_moved_to_another_field_or_customer_is_rejected():
    sealed = seal(KEY, "cus_a", "email", b'"jane@example.com"')
    with pytest.raises(SealBroken):
        open_sealed(KEY, "cus_a", "name", sealed)
    with pytest.raises(SealBroken):
        open_sealed(KEY, "cus_b", "email", sealed)
    with pytest.raises(SealBroken):
        open_sealed(os.urandom(32), "cus_a", "email", sealed)


class FakeKms:
    """Counts calls; 'wraps' by prefixing, which is enough to test the cache around it."""

    def __init__(self):
        self.calls = 0

    def generate_data_key(self, context):
        self.calls += 1
        plaintext = os.urandom(32)
        return DataKey(plaintext=plaintext, wrapped=b"W" + plaintext)

    def decrypt_data_key(self, wrapped, context):
        self.calls += 1
        return wrapped[1:]


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_cached_keys_expire_and_are_bounded():
    clock = Clock()
    cache = DataKeyCache(ttl_seconds=60, max_entries=2, now=clock)
    cache.put("cus_a", b"wa", b"ka")
    assert cache.get("cus_a", b"wa") == b"ka"
    assert cache.get("cus_a", b"other wrapped key") is None, "keyed by the wrapped key too"
    clock.t += 60
    assert cache.get("cus_a", b"wa") is None
    for name in ("a", "b", "c"):
        cache.put(f"cus_{name}", b"w", b"k")
    assert len(cache) == 2
    assert cache.get("cus_a", b"w") is None, "the oldest entry goes first"
    cache.forget("cus_c")
    assert cache.get("cus_c", b"w") is None


def test_cache_off_with_zero_seconds():
    cache = DataKeyCache(ttl_seconds=0)
    cache.put("cus_a", b"w", b"k")
    assert cache.get("cus_a", b"w") is None


def test_data_keys_cost_one_kms_call_then_none_while_cached():
    kms = FakeKms()
    keys = DataKeys(kms, DataKeyCache(ttl_seconds=60))
    created = keys.create("mer_a", "cus_a")
    assert kms.calls == 1
    assert keys.unwrap("mer_a", "cus_a", created.wrapped) == created.plaintext
    assert kms.calls == 1
    keys.forget("cus_a")
    assert keys.unwrap("mer_a", "cus_a", created.wrapped) == created.plaintext
    assert kms.calls == 2


def test_key_context_binds_token_and_merchant():
    assert key_context("mer_a", "cus_a") == {
        "shoppable:merchant_id": "mer_a",
        "shoppable:token": "cus_a",
    }
