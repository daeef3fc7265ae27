"""Merchants and their API keys: what a key may do is a set of scopes."""

import hashlib
from datetime import datetime

from pydantic import ConfigDict, Field

from .base import Model
from .money import Currency
from .scopes import Scope

ALL_SCOPES = frozenset(Scope)


class Merchant(Model):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(min_length=1, max_length=200)
    default_currency: Currency = "EUR"
    created_at: datetime


class ApiKey(Model):
    """A stored key: only the hash of the secret is kept, never the secret itself."""

    model_config = ConfigDict(extra="forbid")

    id: str
    merchant_id: str
    secret_hash: str
    scopes: frozenset[Scope]
    hint: str = Field(description="The key's prefix and last four characters, for display.")
    created_at: datetime

    def allows(self, scope: Scope) -> bool:
        return scope in self.scopes


def key_secret(mode: str, random_part: str) -> str:
    """A key as the merchant sees it once: `sk_test_…` outside production, `sk_live_…` in it."""
    return f"sk_{mode}_{random_part}"


def hash_secret(secret: str) -> str:
    """Keys carry 190+ bits of randomness, so a plain SHA-256 cannot be brute-forced."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hint_for(secret: str) -> str:
    return f"{secret[:8]}…{secret[-4:]}"


def looks_like_key(secret: str) -> bool:
    return secret.startswith("sk_") and 20 <= len(secret) <= 128 and secret.isascii()
