"""Caller assertions, as pure rules: what the vault believes, and what it refuses."""

import pytest

from chalicelib.domain.scopes import Scope
from chalicelib.vault.assertions import (
    LIFETIME_SECONDS,
    CallerRefused,
    Claims,
    Issuer,
    _mac,
    command_digest,
    mint,
    verify,
)

EDGE, WORKER = b"e" * 32, b"w" * 32
KEYS = {Issuer.EDGE: EDGE, Issuer.WORKER: WORKER}
NOW = 1_900_000_000.0


def command(type_="detokenize", merchant="mer_a", scopes=("customers:read:support",), **more):
    body = {"type": type_, "token": "cus_1", "purpose": "support", **more}
    body["caller"] = {"merchant_id": merchant, "actor": "key_a", "scopes": list(scopes)}
    return body


def signed(body, key=EDGE, issuer=Issuer.EDGE, at=NOW):
    return {**body, "assertion": mint(key, issuer, body, at)}


def refusal(body, at=NOW) -> str:
    with pytest.raises(CallerRefused) as refused:
        verify(KEYS, body, at)
    return refused.value.reason


def test_a_minted_assertion_proves_its_caller():
    caller, claims = verify(KEYS, signed(command()), NOW + 1)
    assert caller.merchant_id == "mer_a" and caller.actor == "key_a"
    assert caller.scopes == frozenset({Scope.CUSTOMERS_SUPPORT})
    assert claims.op == "detokenize" and claims.exp - claims.iat == LIFETIME_SECONDS
    assert len(claims.nonce) >= 16


def test_no_assertion_or_a_malformed_one_is_refused():
    assert refusal(command()) == "missing"
    assert refusal({**command(), "assertion": {"claims": {"v": 1}, "mac": "x"}}) == "malformed"


def test_a_forged_mac_or_an_unknown_key_is_refused():
    assert refusal(signed(command(), key=b"x" * 32)) == "bad signature"
    forged = signed(command())
    forged["assertion"]["claims"]["mer"] = "mer_b"  # claims changed after signing
    forged["caller"]["merchant_id"] = "mer_b"
    assert refusal(forged) == "bad signature"


def test_an_expired_or_future_assertion_is_refused():
    body = signed(command())
    assert refusal(body, at=NOW + LIFETIME_SECONDS) == "expired"
    assert refusal(signed(command(), at=NOW + 3600)) == "expired"


def test_an_assertion_is_for_its_own_command_only():
    body = signed(command())
    other_token = {**body, "token": "cus_2"}
    assert refusal(other_token) == "not for this command"
    as_export = {**body, "type": "export"}
    assert refusal(as_export) == "not for this command"


def test_the_caller_in_the_command_must_be_the_asserted_one():
    body = signed(command())
    body["caller"] = {**body["caller"], "scopes": ["customers:export"]}
    assert refusal(body) in ("not for this command", "caller differs from the assertion")


def test_workers_may_identify_and_describe_only():
    for allowed in ("identify", "describe"):
        body = signed(command(allowed), key=WORKER, issuer=Issuer.WORKER)
        assert verify(KEYS, body, NOW)[1].iss == Issuer.WORKER
    for denied in ("detokenize", "export", "erase", "tokenize", "audit", "forget_order"):
        body = signed(command(denied), key=WORKER, issuer=Issuer.WORKER)
        assert refusal(body) == f"worker may not {denied}"


def test_a_worker_key_cannot_pass_for_the_edge():
    body = signed(command(), key=WORKER, issuer=Issuer.EDGE)
    assert refusal(body) == "bad signature"


def test_a_long_lived_assertion_is_refused_even_when_signed():
    body = command()
    claims = Claims(
        v=1, iss=Issuer.EDGE, mer="mer_a", act="key_a", scp=[Scope.CUSTOMERS_SUPPORT],
        op="detokenize", cmd=command_digest(body), iat=int(NOW), exp=int(NOW) + 86400,
        nonce="n" * 16,
    )  # fmt: skip
    body["assertion"] = {"claims": claims.model_dump(mode="json"), "mac": _mac(EDGE, claims)}
    assert refusal(body) == "lifetime too long"
