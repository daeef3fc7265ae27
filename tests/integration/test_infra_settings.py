"""Settings -> stack: every table, queue, key, function and secret the code reads from its
settings exists in every region's template and reaches the environment of the functions that
use it, and no other's. The fields are found by their marks in chalicelib/config.py
(`json_schema_extra={"resource": …}`), so a new field is checked as soon as it is marked, and an
unmarked secret fails here.

Also the secrets adapter that reads them in a deployed function (chalicelib/adapters/secrets.py).
"""

import json

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from chalicelib.adapters.secrets import (
    SECRET_ARNS_VARIABLE,
    SecretsUnavailable,
    read_secrets,
)
from chalicelib.config import Settings
from chalicelib.resources import QUEUES
from chalicelib.vault.schema import VAULT_TABLES
from infra import build, resources

from .infra_fixtures import REGIONS, environment, functions, references, stack

KINDS = {
    "table": "AWS::DynamoDB::Table",
    "queue": "AWS::SQS::Queue",
    "key": "AWS::KMS::Key",
    "function": "AWS::Serverless::Function",
}
# What only the vault function may read (DESIGN §5); the rest is for every other function.
VAULT_ONLY = {spec.setting for spec in VAULT_TABLES} | {"vault_key_id", "vault_index_key"}


def marked_fields():
    return [
        (name, field.json_schema_extra["resource"])
        for name, field in Settings.model_fields.items()
        if (field.json_schema_extra or {}).get("resource")
    ]


def readers(template, setting):
    """The functions whose environment carries `setting`."""
    variable = resources.env_name(setting)
    return {f for f in functions(template) if variable in environment(template, f)}


def intended_readers(template, setting):
    everyone = set(functions(template))
    if setting == "main_table":  # the vault writes `customer.erased` into its outbox
        return everyone
    field = Settings.model_fields[setting].json_schema_extra or {}
    if field.get("resource") == "secret":
        (spec,) = [s for s in resources.SECRETS if s.owner == field["secret"]]
        return {f for f in everyone if build.reader_of(f) in spec.readers}
    return {build.VAULT_FUNCTION} if setting in VAULT_ONLY else everyone - {build.VAULT_FUNCTION}


ROLE_OF_READER = {resources.API: "DefaultRole", resources.WORKER: "WorkerRole",
                  resources.VAULT: "VaultRole"}  # fmt: skip


@pytest.fixture(params=REGIONS)
def template(request):
    return stack(request.param)


@pytest.mark.parametrize(
    ("setting", "kind"),
    [(n, k) for n, k in marked_fields() if k != "secret"],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_every_resource_setting_names_a_resource_of_the_stack(template, setting, kind):
    assert readers(template, setting) == intended_readers(template, setting)
    for function_id in readers(template, setting):
        value = environment(template, function_id)[resources.env_name(setting)]
        (target,) = references(value)
        assert template["Resources"][target]["Type"] == KINDS[kind], (setting, target)


@pytest.mark.parametrize(
    "setting",
    [n for n, k in marked_fields() if k == "secret"],
)
def test_every_secret_setting_is_in_a_secret_the_right_functions_read(template, setting):
    variable = resources.env_name(setting)
    holders = [s for s in resources.SECRETS if variable in resources.secret_variables(s)]
    assert len(holders) == 1, f"{variable} is in {len(holders)} secrets"
    (spec,) = holders
    secret = template["Resources"][spec.logical_id]
    assert secret["Type"] == "AWS::SecretsManager::Secret"
    assert variable in secret["Properties"]["Description"]  # the operator's instructions
    for function_id in functions(template):
        arns = references(environment(template, function_id)[SECRET_ARNS_VARIABLE])
        assert (spec.logical_id in arns) is (function_id in intended_readers(template, setting))
        # and no secret value in any function's configuration
        assert variable not in environment(template, function_id)
    for reader, role in ROLE_OF_READER.items():
        granted = [
            statement
            for policy in _policies(template, role)
            for statement in policy["Statement"]
            if "secretsmanager:GetSecretValue" in statement["Action"]
        ]
        reached = any(spec.logical_id in references(s["Resource"]) for s in granted)
        assert reached is (reader in spec.readers), (setting, role)


def _policies(template, role):
    resources_ = template["Resources"]
    found = [p["PolicyDocument"] for p in resources_[role]["Properties"].get("Policies", [])]
    found += [
        r["Properties"]["PolicyDocument"]
        for r in resources_.values()
        if r["Type"] == "AWS::IAM::Policy" and {"Ref": role} in r["Properties"]["Roles"]
    ]
    return found


def test_every_secret_field_is_marked():
    for name, field in Settings.model_fields.items():
        if SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ())):
            assert (field.json_schema_extra or {}).get("resource") == "secret", (
                f"Settings.{name} is a secret: mark it json_schema_extra=_secret(owner) so "
                "that the stack creates it (infra/resources.py)"
            )


def test_the_definitions_in_code_are_marked():
    marks = dict(marked_fields())
    assert marks["main_table"] == "table"
    for spec in VAULT_TABLES:
        assert marks[spec.setting] == "table"
    for spec in QUEUES:
        assert marks[spec.setting] == "queue"
    assert {n for n, k in marks.items() if k == "queue"} == {spec.setting for spec in QUEUES}


def test_an_unwired_resource_setting_fails_the_build(monkeypatch):
    from .infra_fixtures import chalice_template

    field = Settings.model_fields["reservation_minutes"]
    monkeypatch.setattr(field, "json_schema_extra", {"resource": "table"})
    with pytest.raises(ValueError, match=r"Settings\.reservation_minutes names a table"):
        build.merge(chalice_template(), stage="dev", region=build.load_region("us-east-1"))


# The secrets adapter


@pytest.fixture
def secretsmanager(monkeypatch):
    for name in ("STRIPE_API_KEY", "SHOPPABLE_STRIPE_WEBHOOK_SECRET", "SHOPPABLE_VAULT_INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_settings_read_the_functions_secrets(secretsmanager, monkeypatch):
    stripe = secretsmanager.create_secret(
        Name="shoppable-dev/stripe",
        SecretString=json.dumps(
            {"STRIPE_API_KEY": "sk_live_1", "SHOPPABLE_STRIPE_WEBHOOK_SECRET": "whsec_1"}
        ),
    )["ARN"]
    platforms = secretsmanager.create_secret(
        Name="shoppable-dev/platforms",
        SecretString=json.dumps(
            {"SHOPPABLE_META_APP_SECRET": "meta", "SHOPPABLE_X_CONSUMER_SECRET": ""}
        ),
    )["ARN"]
    monkeypatch.setenv(SECRET_ARNS_VARIABLE, f"{stripe},{platforms}")
    settings = Settings()
    assert settings.stripe_api_key.get_secret_value() == "sk_live_1"
    assert settings.stripe_webhook_secret.get_secret_value() == "whsec_1"
    assert settings.meta_app_secret.get_secret_value() == "meta"
    assert settings.x_consumer_secret.get_secret_value() == ""  # left blank: the default
    # The environment wins (tests, `make run`, an operator trying a value).
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_local")
    assert Settings().stripe_api_key.get_secret_value() == "sk_test_local"


def test_a_secret_without_a_value_yet_leaves_the_defaults(secretsmanager, monkeypatch, log_lines):
    empty = secretsmanager.create_secret(Name="shoppable-dev/platforms")["ARN"]
    monkeypatch.setenv(SECRET_ARNS_VARIABLE, empty)
    assert Settings().meta_app_secret.get_secret_value() == ""
    assert any(line["message"].startswith("secret has no value yet") for line in log_lines())


@pytest.mark.parametrize("value", ["not json", '["a list"]', '{"STRIPE_API_KEY": 42}'])
def test_a_malformed_secret_stops_the_settings(secretsmanager, value):
    arn = secretsmanager.create_secret(Name="bad", SecretString=value)["ARN"]
    with pytest.raises(SecretsUnavailable, match="JSON object of strings"):
        read_secrets(secretsmanager, [arn])


def test_an_unreadable_secret_stops_the_settings(secretsmanager):
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    with pytest.raises(SecretsUnavailable, match="could not be read"):
        read_secrets(secretsmanager, [missing])


def test_without_secret_arns_nothing_is_fetched(monkeypatch):
    monkeypatch.delenv(SECRET_ARNS_VARIABLE, raising=False)
    monkeypatch.setattr("boto3.session.Session", None)  # any call would fail
    assert Settings().stripe_api_key.get_secret_value()
