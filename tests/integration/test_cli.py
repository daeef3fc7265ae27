import json

import pytest

from devstack.cli import main


def test_merchant_create_prints_a_working_key_once(api, capsys):
    assert (
        main(
            [
                "merchant",
                "create",
                "--name",
                "Corner Store",
                "--scopes",
                "catalog:read,catalog:write",
            ]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert printed["merchant_id"].startswith("mer_")
    assert printed["api_key"].startswith("sk_test_")
    assert printed["scopes"] == ["catalog:read", "catalog:write"]
    assert api.get("/v1/products", key=printed["api_key"]).status_code == 200
    assert api.get("/v1/posts", key=printed["api_key"]).status_code == 403


def test_merchant_create_rejects_unknown_scopes(rt, capsys):
    with pytest.raises(SystemExit):
        main(["merchant", "create", "--name", "X", "--scopes", "everything"])
    assert "known scopes" in capsys.readouterr().err
    assert rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"] == []


def test_add_key_issues_a_narrower_key_for_an_existing_merchant(api, merchant, capsys):
    assert (
        main(
            ["merchant", "add-key", "--merchant", merchant.merchant.id, "--scopes", "catalog:read"]
        )
        == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert api.get("/v1/products", key=printed["api_key"]).status_code == 200
    assert api.get("/v1/orders", key=printed["api_key"]).status_code == 403


def test_add_key_refuses_an_unknown_merchant(rt, capsys):
    with pytest.raises(SystemExit):
        main(["merchant", "add-key", "--merchant", "mer_nobody", "--scopes", "catalog:read"])
    assert "No such merchant" in capsys.readouterr().err
