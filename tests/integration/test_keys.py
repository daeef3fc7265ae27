"""The API key lifecycle: list, create (narrower, expiring), revoke (at once), roll (with a
grace period), the stack's key mode, and the operator's CLI equivalents."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import runtime as runtime_module
from chalicelib.domain.merchants import Scope, hash_secret
from chalicelib.services.merchants import create_merchant
from devstack.cli import main

from .vault_helpers import add_key


def keys_of(api, key):
    response = api.get("/v1/keys", key=key)
    assert response.status_code == 200, response.body
    return {k["id"]: k for k in response.json["data"]}


def expire_secret(rt, secret: str) -> None:
    """Time passes for one secret: its credential's end is moved into the past."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    rt.dynamodb.update_item(
        TableName=rt.settings.main_table,
        Key={"pk": {"S": f"KEY#{hash_secret(secret)}"}, "sk": {"S": "KEY"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"S": past}},
    )


def test_the_list_shows_prefix_scopes_created_and_last_used_never_a_secret(api, rt, merchant):
    reader = add_key(rt, merchant.merchant.id, Scope.CATALOG_READ)
    assert api.get("/v1/products", key=reader).status_code == 200
    listed = keys_of(api, merchant.secret)
    assert len(listed) == 2
    (narrow,) = [k for k in listed.values() if k["scopes"] == ["catalog:read"]]
    assert narrow["prefix"] == f"{reader[:8]}…{reader[-4:]}"
    assert narrow["status"] == "active" and narrow["last_used_at"] is not None
    assert narrow["created_at"] and narrow["expires_at"] is None
    text = json.dumps(listed)
    assert reader not in text and hash_secret(reader) not in text
    assert merchant.secret not in text
    assert not {"secret", "secret_hash", "secrets"} & {f for k in listed.values() for f in k}


def test_a_created_key_works_with_at_most_its_creators_scopes(api, rt, merchant):
    created = api.post("/v1/keys", {"scopes": ["catalog:read"]}, key=merchant.secret)
    assert created.status_code == 201, created.body
    secret = created.json["secret"]
    assert secret.startswith("sk_test_") and created.json["id"].startswith("key_")
    assert api.get("/v1/products", key=secret).status_code == 200
    assert api.get("/v1/orders", key=secret).status_code == 403

    keys_only = add_key(rt, merchant.merchant.id, Scope.KEYS_WRITE, Scope.CATALOG_READ)
    wider = api.post("/v1/keys", {"scopes": ["orders:read"]}, key=keys_only)
    assert wider.status_code == 403
    assert wider.json["error"]["code"] == "scope_not_held"


@pytest.mark.parametrize(
    "expires_at",
    ["2001-01-01T00:00:00Z", "2999-01-01T00:00:00Z", "2030-01-01T00:00:00"],
)
def test_an_expiry_must_be_within_a_year_and_carry_its_offset(api, merchant, expires_at):
    response = api.post(
        "/v1/keys", {"scopes": ["catalog:read"], "expires_at": expires_at}, key=merchant.secret
    )
    assert response.status_code == 422, response.body
    assert response.json["error"]["param"] == "expires_at"


def test_a_key_that_expires_is_refused_from_then_on(api, rt, merchant):
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    created = api.post(
        "/v1/keys", {"scopes": ["catalog:read"], "expires_at": soon}, key=merchant.secret
    ).json
    assert created["expires_at"] is not None
    assert api.get("/v1/products", key=created["secret"]).status_code == 200
    expire_secret(rt, created["secret"])
    refused = api.get("/v1/products", key=created["secret"])
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "api_key_expired"


def test_a_revoked_key_is_refused_by_the_next_request(api, rt, merchant):
    reader = add_key(rt, merchant.merchant.id, Scope.CATALOG_READ)
    (key_id,) = [
        i for i, k in keys_of(api, merchant.secret).items() if k["scopes"] == ["catalog:read"]
    ]
    revoked = api.request("DELETE", f"/v1/keys/{key_id}", key=merchant.secret)
    assert revoked.status_code == 200, revoked.body
    assert revoked.json["status"] == "revoked" and revoked.json["revoked_at"]
    assert api.get("/v1/products", key=reader).status_code == 401
    again = api.request("DELETE", f"/v1/keys/{key_id}", key=merchant.secret)
    assert again.status_code == 200 and again.json["status"] == "revoked"


def test_keys_are_managed_only_within_the_merchant_and_never_upwards(
    api, rt, merchant, other_merchant
):
    owner_id = next(iter(keys_of(api, merchant.secret)))
    assert (
        api.request("DELETE", f"/v1/keys/{owner_id}", key=other_merchant.secret).status_code == 404
    )
    narrow = add_key(rt, merchant.merchant.id, Scope.KEYS_WRITE, Scope.KEYS_READ)
    for method, path in [("DELETE", f"/v1/keys/{owner_id}"), ("POST", f"/v1/keys/{owner_id}/roll")]:
        response = api.request(method, path, {} if method == "POST" else None, key=narrow)
        assert response.status_code == 403, (method, response.body)
    assert api.get("/v1/products", key=merchant.secret).status_code == 200


def test_a_roll_gives_a_new_secret_and_the_old_one_a_grace_period(api, rt, merchant):
    created = api.post("/v1/keys", {"scopes": ["catalog:read"]}, key=merchant.secret).json
    old = created["secret"]
    rolled = api.post(
        f"/v1/keys/{created['id']}/roll", {"grace_seconds": 3600}, key=merchant.secret
    )
    assert rolled.status_code == 200, rolled.body
    new = rolled.json["secret"]
    assert new != old and rolled.json["id"] == created["id"]
    assert rolled.json["previous_secret_expires_at"] is not None
    assert api.get("/v1/products", key=new).status_code == 200
    assert api.get("/v1/products", key=old).status_code == 200, "within its grace period"
    expire_secret(rt, old)  # the grace period ends
    assert api.get("/v1/products", key=old).status_code == 401
    assert api.get("/v1/products", key=new).status_code == 200

    now = api.post(f"/v1/keys/{created['id']}/roll", {"grace_seconds": 0}, key=merchant.secret)
    assert api.get("/v1/products", key=new).status_code == 401, "no grace: ended at once"
    assert api.get("/v1/products", key=now.json["secret"]).status_code == 200


def test_a_replayed_create_shows_the_key_without_its_secret(api, rt, merchant):
    headers = {"Idempotency-Key": "new-reader"}
    body = {"scopes": ["catalog:read"]}
    first = api.post("/v1/keys", body, key=merchant.secret, headers=headers)
    again = api.post("/v1/keys", body, key=merchant.secret, headers=headers)
    assert first.json["secret"] and again.json["secret"] is None
    assert again.json["id"] == first.json["id"]
    stored = json.dumps(rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"])
    assert first.json["secret"] not in stored


def test_a_stack_refuses_keys_of_the_other_mode(api, rt, merchant, monkeypatch):
    live = create_merchant(rt.merchants, "Live Shop", live=True)
    refused = api.get("/v1/products", key=live.secret)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "api_key_mode_mismatch"

    monkeypatch.setenv("SHOPPABLE_STAGE", "prod")
    runtime_module.reset()
    assert api.get("/v1/products", key=live.secret).status_code == 200
    test_key = api.get("/v1/products", key=merchant.secret)
    assert test_key.status_code == 401
    assert test_key.json["error"]["code"] == "api_key_mode_mismatch"
    issued = create_merchant(runtime_module.runtime().merchants, "Issued on prod")
    assert issued.secret.startswith("sk_live_")


def test_the_operators_cli_lists_creates_rolls_and_revokes(api, merchant, capsys):
    mid = merchant.merchant.id
    assert main(["key", "create", "--merchant", mid, "--scopes", "catalog:read"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert api.get("/v1/products", key=created["secret"]).status_code == 200

    assert (
        main(["key", "roll", "--merchant", mid, "--key", created["id"], "--grace-seconds", "0"])
        == 0
    )
    rolled = json.loads(capsys.readouterr().out)
    assert api.get("/v1/products", key=created["secret"]).status_code == 401
    assert api.get("/v1/products", key=rolled["secret"]).status_code == 200

    assert main(["key", "list", "--merchant", mid]) == 0
    listed = json.loads(capsys.readouterr().out)["data"]
    assert {k["id"] for k in listed} >= {created["id"]}
    assert "sk_test_" not in json.dumps(
        [{k: v for k, v in x.items() if k != "prefix"} for x in listed]
    )

    assert main(["key", "revoke", "--merchant", mid, "--key", created["id"]]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "revoked"
    assert api.get("/v1/products", key=rolled["secret"]).status_code == 401
    assert main(["key", "revoke", "--merchant", mid, "--key", "key_nothere"]) == 2
