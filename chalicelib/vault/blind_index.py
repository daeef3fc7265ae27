"""The blind index: finds a returning customer by email without decrypting anything.

It is HMAC-SHA256 under a secret key, never a bare hash: a bare hash of an email can be
reversed by hashing a list of known addresses. The merchant id goes into the MAC, so the
same person has unrelated index values (and so unrelated tokens) at two merchants, and no
merchant can learn that a person also bought elsewhere.
"""

import base64
import binascii
import hashlib
import hmac

from ..errors import ShoppableError

MIN_KEY_BYTES = 32


class VaultNotConfigured(ShoppableError):
    status = 500
    type = "api_error"
    code = "vault_not_configured"


def normalise_email(email: str) -> str:
    """What makes two spellings of an address the same person: case and outer spaces."""
    return email.strip().lower()


def index_key_from(encoded: str | None) -> bytes:
    """The index key from its base64 setting (SHOPPABLE_VAULT_INDEX_KEY, >= 32 bytes)."""
    if not encoded:
        raise VaultNotConfigured("The vault's index key (SHOPPABLE_VAULT_INDEX_KEY) is not set.")
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultNotConfigured("SHOPPABLE_VAULT_INDEX_KEY is not valid base64.") from None
    if len(key) < MIN_KEY_BYTES:
        raise VaultNotConfigured(
            f"SHOPPABLE_VAULT_INDEX_KEY must decode to at least {MIN_KEY_BYTES} bytes."
        )
    return key


def email_index(key: bytes, merchant_id: str, email: str) -> str:
    """The blind index of `email` at `merchant_id` (hex)."""
    message = b"email\x00" + merchant_id.encode() + b"\x00" + normalise_email(email).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
