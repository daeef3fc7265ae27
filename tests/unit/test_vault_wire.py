"""The vault's command protocol: the same dicts in-process and over Lambda, errors as data."""

import io
import json
import logging
import time
from datetime import UTC, datetime

import pytest

from chalicelib.domain.merchants import Scope
from chalicelib.errors import Gone, NotFound, PermissionDenied, ShoppableError
from chalicelib.vault.assertions import Issuer, Minter, verify
from chalicelib.vault.client import (
    InProcess,
    LambdaInvoke,
    VaultClient,
    VaultUnavailable,
    error_from_reply,
)
from chalicelib.vault.handler import handle
from chalicelib.vault.models import Caller, CustomerCreate, MaskedCustomer, Tokenized

CALLER = Caller(merchant_id="mer_a", actor="key_a", scopes=frozenset({Scope.CUSTOMERS_WRITE}))
JANE = CustomerCreate(email="jane.doe@example.com", name="Jane Doe")
EDGE_KEY = b"k" * 32
MINT = Minter(Issuer.EDGE, lambda: EDGE_KEY, time.time)


class FakeVault:
    """Answers tokenize, raises what it is told to on everything else."""

    def __init__(self, raises: Exception | None = None):
        self.raises = raises
        self.seen: list = []

    def admit(self, command):
        return verify({Issuer.EDGE: EDGE_KEY}, command, time.time())[0]

    def tokenize(self, caller, customer):
        self.seen.append((caller, customer))
        if self.raises:
            raise self.raises
        masked = MaskedCustomer(email="j***@example.com", name="J***")
        return Tokenized(token="cus_abc", masked=masked, created=True)

    def erase(self, caller, token):
        raise self.raises or Gone("erased", code="customer_erased")


def test_in_process_round_trip_parses_both_ways():
    vault = FakeVault()
    client = VaultClient(InProcess(lambda: vault), MINT)
    assert client.tokenize(CALLER, JANE).token == "cus_abc"
    caller, customer = vault.seen[0]
    assert caller == CALLER and customer == JANE


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (Gone("erased", code="customer_erased"), Gone),
        (NotFound("no such customer"), NotFound),
        (PermissionDenied("lacks scope"), PermissionDenied),
    ],
)
def test_errors_come_back_as_the_same_types(error, kind):
    client = VaultClient(InProcess(lambda: FakeVault(raises=error)), MINT)
    with pytest.raises(kind) as raised:
        client.erase(CALLER, "cus_abc")
    assert raised.value.code == error.code and raised.value.status == error.status


def test_server_errors_keep_their_code_and_status():
    raised = error_from_reply({"status": 500, "code": "vault_integrity_failed", "message": "m"})
    assert type(raised) is ShoppableError
    assert (raised.status, raised.code) == (500, "vault_integrity_failed")


def test_a_malformed_command_is_refused_without_echoing_values():
    reply = handle(FakeVault, {"type": "tokenize", "caller": {}, "customer": {"email": "x@y.zz"}})
    assert reply["ok"] is False
    assert reply["error"]["status"] == 400
    assert reply["error"]["code"] == "invalid_vault_command"
    assert "x@y.zz" not in json.dumps(reply)


def test_an_unexpected_failure_is_logged_by_type_not_message(caplog):
    leaky = ValueError("jane.doe@example.com is broken")
    payload = {"type": "tokenize", "caller": CALLER.model_dump(mode="json"), "customer": {}}
    payload["customer"] = JANE.model_dump(mode="json")
    payload["assertion"] = MINT(payload)
    with caplog.at_level(logging.DEBUG):
        reply = handle(lambda: FakeVault(raises=leaky), payload)
    assert reply["error"]["code"] == "vault_error" and reply["error"]["status"] == 500
    logged = " ".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "ValueError" in logged
    assert "jane.doe" not in logged and "jane.doe" not in json.dumps(reply)


class FakeLambda:
    def __init__(self, reply: dict, function_error: str | None = None):
        self.reply = reply
        self.function_error = function_error
        self.sent: list = []

    def invoke(self, FunctionName, InvocationType, Payload):
        self.sent.append((FunctionName, InvocationType, json.loads(Payload)))
        response = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.reply).encode())}
        if self.function_error:
            response["FunctionError"] = self.function_error
        return response


def test_lambda_transport_sends_the_command_and_parses_the_reply():
    erased_at = datetime(2025, 1, 1, tzinfo=UTC).isoformat()
    result = {"object": "customer", "token": "cus_abc", "erased": True, "erased_at": erased_at}
    fake = FakeLambda({"ok": True, "result": result})
    erased = VaultClient(LambdaInvoke(fake, "shoppable-dev-vault"), MINT).erase(CALLER, "cus_abc")
    assert erased.token == "cus_abc"
    name, kind, payload = fake.sent[0]
    assert (name, kind, payload["type"], payload["token"]) == (
        "shoppable-dev-vault",
        "RequestResponse",
        "erase",
        "cus_abc",
    )
    assert payload["assertion"]["claims"]["op"] == "erase", "every command carries its proof"


def test_lambda_function_error_does_not_leak_its_message():
    fake = FakeLambda({"errorMessage": "jane.doe@example.com"}, function_error="Unhandled")
    with pytest.raises(VaultUnavailable) as raised:
        VaultClient(LambdaInvoke(fake, "vault"), MINT).tokenize(CALLER, JANE)
    assert "jane" not in raised.value.message
