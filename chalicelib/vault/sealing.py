"""Sealing one field with AES-256-GCM under its customer's data key.

A sealed value is `version (1 byte) | nonce (12 bytes) | ciphertext and tag`. The token and
the field name are bound in as associated data, so a sealed value moved to another customer
or to another field of the same customer fails to open instead of opening as the wrong thing;
a changed byte anywhere fails the tag. `cryptography` is imported on first use, not at start-up.
"""

import os

VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32


class SealBroken(Exception):
    """A sealed value did not verify: altered, truncated, moved, or under another key."""


def _associated_data(token: str, field: str) -> bytes:
    return b"shoppable-vault\x00%d\x00%s\x00%s" % (VERSION, token.encode(), field.encode())


def seal(key: bytes, token: str, field: str, plaintext: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    assert len(key) == KEY_BYTES, "data keys are AES-256"
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonces: safe far beyond one key's use here
    sealed = AESGCM(key).encrypt(nonce, plaintext, _associated_data(token, field))
    return bytes([VERSION]) + nonce + sealed


def open_sealed(key: bytes, token: str, field: str, sealed: bytes) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[0] != VERSION:
        raise SealBroken(f"sealed '{field}' has an unknown format")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, _associated_data(token, field))
    except InvalidTag:
        raise SealBroken(f"sealed '{field}' failed its integrity check") from None
