import json
import subprocess

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


def test_without_a_running_make_run_it_says_it_talks_to_aws(rt, capsys, tmp_path, monkeypatch):
    """dev.json left behind by a stack that was killed is not a stack to talk to."""
    monkeypatch.setenv("SHOPPABLE_DEV_DIR", str(tmp_path))
    finished = subprocess.Popen(["true"])
    finished.wait()
    (tmp_path / "dev.json").write_text(
        json.dumps({"pid": finished.pid, "aws_endpoint_url": "http://127.0.0.1:9"})
    )

    assert main(["merchant", "create", "--name", "Corner Store"]) == 0

    printed = capsys.readouterr()
    assert printed.err.startswith("Talking to AWS: region us-east-1, table shoppable-main")
    assert json.loads(printed.out)["merchant_id"].startswith("mer_")


def test_stack_local_refuses_when_no_make_run_is_going(rt, capsys):
    with pytest.raises(SystemExit) as refused:
        main(["--stack", "local", "merchant", "create", "--name", "Corner Store"])

    assert refused.value.code == 2
    assert "No running `make run` stack" in capsys.readouterr().err
    assert rt.dynamodb.scan(TableName=rt.settings.main_table)["Items"] == []
