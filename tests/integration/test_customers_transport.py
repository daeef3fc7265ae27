"""The vault as its own Lambda function: the routes call it through `LambdaInvoke`.

`LambdaInvoke` gets a stand-in for boto3's Lambda client that invokes the app's `vault`
function through Chalice's test client, so the JSON crosses the same boundary as in
production, and errors come back typed.
"""

import io
import json

import pytest

from chalicelib import runtime as runtime_module
from chalicelib.domain.merchants import Scope
from chalicelib.errors import Gone, NotFound, PermissionDenied
from chalicelib.vault.client import InProcess, LambdaInvoke, VaultClient
from chalicelib.vault.models import Caller, CustomerCreate

from .vault_helpers import JANE, read, tokenize


class ChaliceLambda:
    """boto3's `lambda.invoke`, answered by the Chalice app's own Lambda function."""

    def __init__(self, client):
        self.client = client
        self.invocations = 0

    def invoke(self, FunctionName, InvocationType, Payload):
        assert InvocationType == "RequestResponse"
        self.invocations += 1
        reply = self.client.lambda_.invoke(FunctionName, json.loads(Payload)).payload
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(reply).encode())}


@pytest.fixture
def remote(api, rt):
    """Route every vault call of the app through the `vault` Lambda function."""
    lambda_client = ChaliceLambda(api.client)
    rt.vault = VaultClient(LambdaInvoke(lambda_client, "vault"), rt.vault._mint)
    return lambda_client


def test_the_routes_work_through_the_vault_function(api, merchant, other_merchant, remote):
    jane = tokenize(api, merchant.secret, JANE)
    shown = read(api, merchant.secret, jane["token"], "fulfillment")
    assert shown.status_code == 200 and shown.json["name"] == "Jane Doe"
    assert read(api, other_merchant.secret, jane["token"], "support").status_code == 404
    assert read(api, merchant.secret, jane["token"], "marketing").status_code == 403
    erased = api.request("DELETE", f"/v1/customers/{jane['token']}", key=merchant.secret)
    assert erased.status_code == 200
    assert read(api, merchant.secret, jane["token"], "support").status_code == 410
    assert remote.invocations == 6


def test_errors_cross_the_function_boundary_typed(api, rt, merchant, remote):
    caller = Caller(merchant_id=merchant.merchant.id, actor="key_test", scopes=frozenset(Scope))
    token = rt.vault.tokenize(caller, CustomerCreate.model_validate(JANE)).token
    reader = caller.model_copy(update={"scopes": frozenset({Scope.CUSTOMERS_SUPPORT})})
    with pytest.raises(PermissionDenied):
        rt.vault.detokenize_for(reader, token, "fulfillment")
    stranger = caller.model_copy(update={"merchant_id": "mer_stranger"})
    with pytest.raises(NotFound):
        rt.vault.export(stranger, token)
    rt.vault.erase(caller, token)
    with pytest.raises(Gone) as gone:
        rt.vault.detokenize_for(caller, token, "support")
    assert gone.value.code == "customer_erased"


def test_the_vault_function_setting_selects_the_lambda_transport(monkeypatch, rt):
    monkeypatch.setenv("SHOPPABLE_VAULT_FUNCTION", "shoppable-dev-vault")
    remote_rt = runtime_module.reset()
    assert isinstance(remote_rt.vault._send, LambdaInvoke)
    assert remote_rt.vault._send.function_name == "shoppable-dev-vault"
    monkeypatch.delenv("SHOPPABLE_VAULT_FUNCTION")
    assert isinstance(runtime_module.reset().vault._send, InProcess)


def test_a_missing_index_key_fails_the_vault_only(api, rt, merchant):
    rt.settings.vault_index_key = None
    response = api.post("/v1/customers", JANE, key=merchant.secret)
    assert response.status_code == 500
    assert response.json["error"]["code"] == "vault_not_configured"
    assert api.get("/v1/health").status_code == 200
