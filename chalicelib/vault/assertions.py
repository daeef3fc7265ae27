"""Caller assertions: how the vault knows who is asking, instead of believing the payload.

Any function allowed to invoke the vault could write any merchant id and any scopes into a
command. So every command carries an assertion, minted where the caller was proven and
checked by the vault before it opens anything:

- the API edge mints, after it has checked the API key (`Issuer.EDGE`): the key's merchant,
  its id and its scopes; any command those scopes allow;
- the queue consumers and schedules mint with their own key (`Issuer.WORKER`): only what
  they do, `identify` (a platform buyer, a commenter) and `describe`.

An assertion is HMAC-SHA256, under the issuer's key, over its claims: issuer, merchant, actor,
scopes, the one operation it allows, the digest of the exact command it goes with, when it
was issued, when it expires (a minute later) and a nonce. Each key is a secret readable only by
the roles that mint with it and by the vault's. A forged, expired, misdirected or out-of-role
assertion is refused (`CallerRefused`) and the vault audits the refusal.

Pure: no AWS; the clock is handed in.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, ValidationError

from ..domain.base import Model
from ..domain.scopes import Scope
from ..errors import AuthenticationFailed
from .models import Caller

VERSION = 1
LIFETIME_SECONDS = 60
CLOCK_SKEW_SECONDS = 30  # an assertion issued this far in the future is still taken
MIN_KEY_BYTES = 32
ASSERTION_FIELD = "assertion"


class Issuer(StrEnum):
    EDGE = "edge"
    WORKER = "worker"


# What each issuer may ask of the vault (command types, see commands.py).
_EVERY_OPERATION = "tokenize identify forget_order detokenize export erase audit describe"
ISSUER_OPERATIONS: dict[Issuer, frozenset[str]] = {
    Issuer.EDGE: frozenset(_EVERY_OPERATION.split()),
    Issuer.WORKER: frozenset({"identify", "describe"}),
}


class CallerRefused(AuthenticationFailed):
    """The command's assertion did not prove its caller."""

    code = "caller_unverified"

    def __init__(self, reason: str, claims: "Claims | None" = None):
        super().__init__("The vault could not verify who is calling; the call was refused.")
        self.reason = reason
        self.claims = claims


class Claims(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: int
    iss: Issuer
    mer: str  # merchant id
    act: str  # actor: an API key id, or service:<name>
    scp: list[Scope]
    op: str  # the one command type this assertion allows
    cmd: str  # hex SHA-256 of the command it goes with
    iat: int  # unix seconds
    exp: int
    nonce: str


def command_digest(command: Mapping[str, Any]) -> str:
    """The digest of a command as it travels, its assertion left out."""
    body = {k: v for k, v in command.items() if k != ASSERTION_FIELD}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _mac(key: bytes, claims: Claims) -> str:
    message = claims.model_dump_json().encode()
    return base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def mint(key: bytes, issuer: Issuer, command: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The assertion to send with `command` (whose `caller` says who asks)."""
    caller = command["caller"]
    claims = Claims(
        v=VERSION,
        iss=issuer,
        mer=caller["merchant_id"],
        act=caller["actor"],
        scp=sorted(caller["scopes"]),
        op=command["type"],
        cmd=command_digest(command),
        iat=int(now),
        exp=int(now) + LIFETIME_SECONDS,
        nonce=secrets.token_urlsafe(12),
    )
    return {"claims": claims.model_dump(mode="json"), "mac": _mac(key, claims)}


def verify(
    keys: Mapping[Issuer, bytes], command: Mapping[str, Any], now: float
) -> tuple[Caller, Claims]:
    """The caller the command's assertion proves, and its claims; CallerRefused otherwise."""
    raw = command.get(ASSERTION_FIELD)
    if not isinstance(raw, dict) or not isinstance(raw.get("mac"), str):
        raise CallerRefused("missing")
    try:
        claims = Claims.model_validate(raw.get("claims"))
    except ValidationError:
        raise CallerRefused("malformed") from None
    key = keys.get(claims.iss)
    if key is None or claims.v != VERSION:
        raise CallerRefused("unknown issuer", claims)
    if not hmac.compare_digest(_mac(key, claims), raw["mac"]):
        raise CallerRefused("bad signature", claims)
    if claims.exp <= now or claims.iat > now + CLOCK_SKEW_SECONDS:
        raise CallerRefused("expired", claims)
    if claims.exp - claims.iat > LIFETIME_SECONDS:
        raise CallerRefused("lifetime too long", claims)
    if claims.op != command.get("type") or claims.cmd != command_digest(command):
        raise CallerRefused("not for this command", claims)
    if claims.op not in ISSUER_OPERATIONS[claims.iss]:
        raise CallerRefused(f"{claims.iss} may not {claims.op}", claims)
    caller = command.get("caller") or {}
    if (
        caller.get("merchant_id") != claims.mer
        or caller.get("actor") != claims.act
        or sorted(caller.get("scopes") or []) != list(claims.scp)
    ):
        raise CallerRefused("caller differs from the assertion", claims)
    return Caller(merchant_id=claims.mer, actor=claims.act, scopes=frozenset(claims.scp)), claims


class Minter:
    """Mints assertions with one issuer's key, read on first use (a function without the
    key fails only when it asks the vault for something)."""

    def __init__(self, issuer: Issuer, key: Callable[[], bytes], now: Callable[[], float]):
        self.issuer = issuer
        self._key = key
        self._now = now

    def __call__(self, command: Mapping[str, Any]) -> dict[str, Any]:
        return mint(self._key(), self.issuer, command, self._now())


def key_from(encoded: str | None, variable: str) -> bytes:
    """A MAC key from its base64 setting (>= 32 bytes)."""
    from .blind_index import VaultNotConfigured

    if not encoded:
        raise VaultNotConfigured(f"{variable} is not set.")
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultNotConfigured(f"{variable} is not valid base64.") from None
    if len(key) < MIN_KEY_BYTES:
        raise VaultNotConfigured(f"{variable} must decode to at least {MIN_KEY_BYTES} bytes.")
    return key
