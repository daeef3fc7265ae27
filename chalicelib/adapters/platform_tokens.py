"""Sealing a grant's tokens: envelope encryption with the vault's building blocks.

Each grant gets its own data key from KMS, under the platform-tokens key (not the vault's:
only the vault function may use that one) and bound to the grant by the encryption context
(`shoppable:merchant_id`, `shoppable:token` = the grant's id), so a wrapped key copied to
another grant does not open. The tokens are sealed with AES-256-GCM under that key
(`vault/sealing.py`), the grant's id bound in as associated data. Unwrapped keys stay in
memory for `platform_token_cache_seconds` at most (`vault/keyring.py`); the tokens
themselves are opened on each use and never kept.
"""

from ..domain.connections import Grant, Tokens
from ..errors import ShoppableError
from ..vault.keyring import DataKeys
from ..vault.sealing import SealBroken, open_sealed, seal

FIELD = "platform_tokens"


class TokensUnreadable(ShoppableError):
    """Sealed tokens that do not open: altered, or moved from another grant."""

    status = 500
    type = "api_error"
    code = "key_integrity_failed"


class TokenSealer:
    def __init__(self, keys: DataKeys):
        self.keys = keys

    def seal(
        self, grant: Grant, tokens: Tokens, wrapped: bytes | None = None
    ) -> tuple[bytes, bytes]:
        """(wrapped data key, sealed tokens); a new data key unless `wrapped` is given."""
        if wrapped is None:
            key = self.keys.create(grant.merchant_id, grant.id)
            wrapped, plaintext = key.wrapped, key.plaintext
        else:
            plaintext = self.keys.unwrap(grant.merchant_id, grant.id, wrapped)
        return wrapped, seal(plaintext, grant.id, FIELD, tokens.model_dump_json().encode())

    def open(self, grant: Grant, wrapped: bytes, sealed: bytes) -> Tokens:
        plaintext = self.keys.unwrap(grant.merchant_id, grant.id, wrapped)
        try:
            return Tokens.model_validate_json(open_sealed(plaintext, grant.id, FIELD, sealed))
        except SealBroken:
            raise TokensUnreadable(
                "A grant's sealed tokens failed their integrity check."
            ) from None

    def forget(self, grant_id: str) -> None:
        self.keys.forget(grant_id)
