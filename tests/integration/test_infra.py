"""The deployable stack: chalice's template merged with the resources defined in chalicelib.

`chalice package` runs once per test session, on the real app (infra_fixtures), and the tests
check the merge of its real output for every region in infra/regions/, dev and prod.
"""

import dataclasses
import json
import re

import pytest

from chalicelib.adapters.dynamodb.schema import MAIN_TABLE, TTL_ATTRIBUTE
from chalicelib.adapters.secrets import SECRET_ARNS_VARIABLE
from chalicelib.resources import QUEUES
from chalicelib.vault.keyring import key_context
from chalicelib.vault.schema import VAULT_TABLES
from infra import access, build, resources
from infra.regions import Region, Throttle, load_region

from .infra_fixtures import (
    REGIONS,
    chalice_template,
    deployment_zip,
    environment,
    functions,
    references,
    resources_of,
    stack,
)

APP_FUNCTIONS = "APIHandler", "OnIngest", "ExpireReservations", "RenewPlatformTokens"
WORKERS = "OnIngest", "ExpireReservations", "PullMetaOrders", "RenewPlatformTokens"
CONTEXT_KEYS = sorted(key_context("m", "t"))
# Whose role each function runs with, and the secrets its environment names.
ROLES = {"APIHandler": "DefaultRole", "Vault": "VaultRole"}
SECRETS_OF = {
    "APIHandler": {"StripeSecret", "PlatformsSecret", "OAuthStateSecret", "EdgeCallerKeySecret",
                   "RequestDigestKeySecret"},
    "worker": {"StripeSecret", "PlatformsSecret", "WorkerCallerKeySecret"},
    "Vault": {"VaultIndexKeySecret", "EdgeCallerKeySecret", "WorkerCallerKeySecret"},
}  # fmt: skip


def role_of(function_id):
    return ROLES.get(function_id, "WorkerRole")


def properties(template, logical_id):
    return template["Resources"][logical_id]["Properties"]


def statements(template, role_id):
    found = [
        s
        for policy in properties(template, role_id).get("Policies", [])
        for s in policy["PolicyDocument"]["Statement"]
    ]
    for resource in resources_of(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in resource["Properties"]["Roles"]:
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def actions_of(statement):
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else actions


@pytest.fixture(params=REGIONS)
def region(request):
    return request.param


@pytest.fixture
def template(region):
    return stack(region)


def test_the_lambda_zip_ships_the_app_and_none_of_the_dev_tools():
    import zipfile

    names = zipfile.ZipFile(deployment_zip()).namelist()
    assert "app.py" in names
    assert "chalicelib/runtime.py" in names
    ours = [n for n in names if not n.split("/")[0].endswith((".dist-info", ".libs"))]
    for dev_only in ("devstack/", "tests/", "bench/", "infra/", "events/"):
        assert not [n for n in ours if n.startswith(dev_only)], f"{dev_only} is in the zip"
    assert not [n for n in ours if n.startswith(("chalicelib/cli", "chalicelib/devstack"))]
    for package in ("moto/", "localstripe/", "chalice/cli/", "pytest/"):
        assert not [n for n in ours if n.startswith(package)], f"{package} is in the zip"


def test_the_three_launch_regions_are_defined():
    assert {"us-east-1", "eu-west-1", "ap-southeast-1"} <= set(REGIONS)
    eu = load_region("eu-west-1")
    assert (eu.data_residency, eu.default_currency) == ("EU", "EUR")


# Data


def test_the_main_table_is_the_schema_in_code(template):
    table = properties(template, "MainTable")
    for key in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes", "BillingMode"):
        assert table[key] == MAIN_TABLE[key]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Fn::GetAtt": ["StackKey", "Arn"]},
    }


@pytest.mark.parametrize("spec", VAULT_TABLES, ids=lambda spec: spec.setting)
def test_the_vault_tables_are_their_specs_under_the_vault_key(template, spec):
    table_id = resources.logical_id(spec.setting)
    table = properties(template, table_id)
    for key, value in spec.definition.items():
        assert table[key] == value
    assert table["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": spec.point_in_time_recovery
    }
    assert table["DeletionProtectionEnabled"] is spec.deletion_protection
    assert table["SSESpecification"]["KMSMasterKeyId"] == {"Fn::GetAtt": ["VaultKey", "Arn"]}
    skipped = template["Resources"][table_id].get("Metadata", {}).get("checkov", {}).get("skip")
    if spec.point_in_time_recovery:
        assert skipped is None
    else:
        # crypto-shredding: no restorable copy of the keys; kept out of backup plans too
        (no_pitr,) = skipped
        assert no_pitr["id"] == "CKV_AWS_28" and "Crypto-shredding" in no_pitr["comment"]
        assert {"Key": resources.NO_BACKUP_TAG, "Value": "never"} in table["Tags"]


def test_only_prod_protects_the_main_table_and_keeps_the_data(region):
    dev, prod = stack(region, "dev"), stack(region, "prod")
    assert properties(dev, "MainTable")["DeletionProtectionEnabled"] is False
    assert properties(prod, "MainTable")["DeletionProtectionEnabled"] is True
    for kind in build.HOLDS_DATA:
        for logical_id, resource in resources_of(prod, kind).items():
            assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
            assert "DeletionPolicy" not in dev["Resources"][logical_id]


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.setting)
def test_every_queue_has_a_dead_letter_queue_and_an_alarm(template, spec):
    queue_id = resources.queue_id(spec)
    queue = properties(template, queue_id)
    redrive = queue["RedrivePolicy"]
    assert redrive == {
        "deadLetterTargetArn": {"Fn::GetAtt": [f"{queue_id}DLQ", "Arn"]},
        "maxReceiveCount": spec.max_receive_count,
    }
    dlq = properties(template, f"{queue_id}DLQ")
    # `<name>-dlq`, as `make run` names it: `dlq redrive --queue <name>` works on both
    assert dlq["QueueName"] == {"Fn::Join": ["", [queue["QueueName"], "-dlq"]]}
    assert queue["VisibilityTimeout"] == spec.visibility_timeout
    for encrypted in (queue, dlq):
        assert encrypted["KmsMasterKeyId"] == {"Ref": "StackKey"}
    alarm = properties(template, f"{queue_id}DLQAlarm")
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [f"{queue_id}DLQ", "QueueName"]}}
    ]
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (0, "GreaterThanThreshold")
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_sqs_events_report_batch_item_failures(template):
    events = [
        event
        for function in functions(template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]
    assert events, "app.py declares at least one queue consumer"
    specs = {resources.queue_id(spec): spec for spec in QUEUES}
    for event in events:
        queue_id, attribute = event["Properties"]["Queue"]["Fn::GetAtt"]
        assert attribute == "Arn"
        assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert event["Properties"]["BatchSize"] == specs[queue_id].batch_size


def test_the_outbox_stream_keeps_order_and_dead_letters_what_it_gives_up(template):
    (table,) = resources_of(template, "AWS::DynamoDB::Table")["MainTable"]["Properties"][
        "StreamSpecification"
    ].values()
    assert table == "NEW_AND_OLD_IMAGES"
    events = [
        event
        for function in functions(template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "DynamoDB"
    ]
    assert len(events) == 1, "app.py declares the outbox's consumer"
    properties = events[0]["Properties"]
    assert properties["Stream"] == {"Fn::GetAtt": ["MainTable", "StreamArn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BisectBatchOnFunctionError"] is False  # a split would reorder
    assert properties["StartingPosition"] == "TRIM_HORIZON"
    assert properties["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["OutboxDLQ", "Arn"]
    }
    alarm = resources_of(template, "AWS::CloudWatch::Alarm")["OutboxDLQAlarm"]["Properties"]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_a_deployed_stack_never_allows_private_webhook_urls():
    region = load_region("eu-west-1")
    unsafe = dataclasses.replace(region, settings={"webhook_local_urls": "true"})
    with pytest.raises(ValueError, match="SSRF"):
        build.merge(chalice_template(), stage="dev", region=unsafe)


def test_an_sqs_event_on_an_unknown_queue_is_an_error():
    broken = chalice_template()
    (event,) = broken["Resources"]["OnIngest"]["Properties"]["Events"].values()
    event["Properties"]["Queue"] = {"Fn::Sub": "arn:${AWS::Partition}:sqs:::not-ours"}
    with pytest.raises(ValueError, match="not-ours"):
        build.merge(broken, stage="dev", region=load_region("eu-west-1"))


def test_secrets_hold_no_value_in_the_template(template):
    secrets = resources_of(template, "AWS::SecretsManager::Secret")
    assert set(secrets) == {spec.logical_id for spec in resources.SECRETS}
    for spec in resources.SECRETS:
        secret = secrets[spec.logical_id]["Properties"]
        assert "SecretString" not in secret
        assert secret["Name"] == {"Fn::Sub": f"${{AWS::StackName}}/{spec.name}"}
        assert secret["KmsKeyId"] == {"Fn::GetAtt": [spec.key, "Arn"]}
        for variable in resources.secret_variables(spec):
            assert variable in secret["Description"]
        assert ("GenerateSecretString" in secret) is spec.generated
    generated = secrets["VaultIndexKeySecret"]["Properties"]["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "SHOPPABLE_VAULT_INDEX_KEY"
    assert generated["PasswordLength"] >= 44 and generated["ExcludePunctuation"]  # base64, >= 32 B
    assert "sk_live" not in json.dumps(template) and "whsec_" not in json.dumps(template)


def test_every_key_rotates_and_has_an_alias_per_stack(template):
    keys = (("StackKey", ""), ("VaultKey", "-vault"), ("PlatformTokensKey", "-platform-tokens"))
    assert set(resources_of(template, "AWS::KMS::Key")) == {key_id for key_id, _ in keys}
    for key_id, suffix in keys:
        assert properties(template, key_id)["EnableKeyRotation"] is True
        alias = properties(template, f"{key_id}Alias")
        assert alias == {
            "AliasName": {"Fn::Sub": f"alias/${{AWS::StackName}}{suffix}"},
            "TargetKeyId": {"Ref": key_id},
        }


# Access


def test_the_vault_function_and_the_workers_have_their_own_roles(template):
    fns = functions(template)
    assert fns["Vault"]["Properties"]["Role"] == {"Fn::GetAtt": ["VaultRole", "Arn"]}
    assert fns["APIHandler"]["Properties"]["Role"] == {"Fn::GetAtt": ["DefaultRole", "Arn"]}
    assert set(WORKERS) <= set(fns)
    for function_id in set(fns) - {"Vault", "APIHandler"}:
        assert fns[function_id]["Properties"]["Role"] == {"Fn::GetAtt": ["WorkerRole", "Arn"]}


def test_only_the_vault_role_reaches_the_vault(template):
    vault_only = {"VaultKey", "VaultIndexKeySecret"} | {
        resources.logical_id(spec.setting) for spec in VAULT_TABLES
    }
    for role in ("DefaultRole", "WorkerRole"):
        for statement in statements(template, role):
            assert not references(statement["Resource"]) & vault_only, statement
    reached = {
        ref for statement in statements(template, "VaultRole") for ref in references(statement)
    }
    assert vault_only <= reached
    assert not reached & {"StripeSecret", "PlatformsSecret", "IngestQueue"}
    # The main table only for `customer.erased`: updates of customers' outbox items.
    main = [s for s in statements(template, "VaultRole") if "MainTable" in references(s)]
    assert [s["Sid"] for s in main] == ["CustomerErasedOutbox"]
    assert main[0]["Action"] == ["dynamodb:UpdateItem"]
    assert main[0]["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["OUTBOX#cus_*"]}
    }


def test_each_caller_assertion_key_is_read_by_its_minters_and_the_vault_only(template):
    """A consumer that could read the API's key could assert any merchant key's scopes."""
    for secret, minter, other in [
        ("EdgeCallerKeySecret", "DefaultRole", "WorkerRole"),
        ("WorkerCallerKeySecret", "WorkerRole", "DefaultRole"),
    ]:

        def reaches(role, secret=secret):
            return any(secret in references(s["Resource"]) for s in statements(template, role))

        assert reaches(minter) and reaches("VaultRole")
        assert not reaches(other)


def test_the_vault_role_makes_data_keys_only_for_a_named_customer(template):
    (data_keys,) = [s for s in statements(template, "VaultRole") if s["Sid"] == "CustomerDataKeys"]
    assert sorted(data_keys["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert data_keys["Resource"] == [{"Fn::GetAtt": ["VaultKey", "Arn"]}]
    assert data_keys["Condition"]["ForAllValues:StringEquals"] == {
        "kms:EncryptionContextKeys": CONTEXT_KEYS
    }
    assert data_keys["Condition"]["Null"] == {
        f"kms:EncryptionContext:{key}": "false" for key in CONTEXT_KEYS
    }
    # `shoppable:token` and `shoppable:merchant_id`: what the vault passes to KMS
    assert CONTEXT_KEYS == ["shoppable:merchant_id", "shoppable:token"]


def test_the_vault_keys_policy_lets_no_one_else_decrypt(template):
    policy = properties(template, "VaultKey")["KeyPolicy"]["Statement"]
    crypto = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:CreateGrant", "kms:*"}
    for statement in policy:
        granted = set(actions_of(statement))
        direct = granted & crypto or any(a.startswith("kms:GenerateDataKey") for a in granted)
        if not direct:
            continue
        condition = statement.get("Condition", {})
        by_vault = condition.get("ArnEquals", {}).get("aws:PrincipalArn") == {
            "Fn::GetAtt": ["VaultRole", "Arn"]
        }
        through_storage = condition.get("StringEquals", {}).get("kms:ViaService") == [
            resources.service("dynamodb"),
            resources.service("secretsmanager"),
        ]
        assert by_vault or through_storage, statement
        if by_vault:
            assert condition["Null"] == {
                f"kms:EncryptionContext:{k}": "false" for k in CONTEXT_KEYS
            }


@pytest.mark.parametrize("role", ["DefaultRole", "WorkerRole"])
def test_the_app_roles_reach_only_what_the_app_uses(template, role):
    found = {s["Sid"]: s for s in statements(template, role)}
    assert set(found) == {
        "Logs",
        "MainTable",
        "PlatformTokenKeysTable",
        "WorkQueues",
        "StackKeyThroughServices",
        "AppSecrets",
        "PlatformTokenKeys",
        "InvokeVault",
        "OutboxStream",
        "OutboxFailures",
        "WebhookSecrets",
    }
    for statement in found.values():
        assert statement["Resource"] != "*" and "*" not in statement["Resource"], statement
    assert found["InvokeVault"] == {
        "Sid": "InvokeVault",
        "Effect": "Allow",
        "Action": ["lambda:InvokeFunction"],
        "Resource": [{"Fn::GetAtt": ["Vault", "Arn"]}],
    }
    assert {"Fn::GetAtt": ["MainTable", "Arn"]} in found["MainTable"]["Resource"]
    assert "sqs:ReceiveMessage" in found["WorkQueues"]["Action"]
    assert (
        references(found["AppSecrets"])
        == SECRETS_OF["APIHandler" if role == "DefaultRole" else "worker"]
    )
    assert "Condition" in found["StackKeyThroughServices"]
    assert found["OutboxStream"]["Resource"] == [{"Fn::GetAtt": ["MainTable", "StreamArn"]}]
    assert found["WebhookSecrets"]["Condition"] == {
        "ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["webhook_endpoint"]}
    }


def test_the_platform_token_keys_have_no_backups_and_only_the_app_role_reaches_them(template):
    table = properties(template, "PlatformTokenKeysTable")
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": False}
    assert table["DeletionProtectionEnabled"] is True
    assert {"Key": resources.NO_BACKUP_TAG, "Value": "never"} in table["Tags"]
    (skipped,) = template["Resources"]["PlatformTokenKeysTable"]["Metadata"]["checkov"]["skip"]
    assert skipped["id"] == "CKV_AWS_28" and "Crypto-shredding" in skipped["comment"]
    reached = [s for s in statements(template, "DefaultRole")
               if "PlatformTokenKeysTable" in references(s["Resource"])]  # fmt: skip
    assert [s["Sid"] for s in reached] == ["PlatformTokenKeysTable"]
    for statement in statements(template, "VaultRole"):
        assert "PlatformTokenKeysTable" not in references(statement)


def test_only_the_app_role_opens_merchants_platform_tokens_and_only_per_grant(template):
    (token_keys,) = [
        s for s in statements(template, "DefaultRole") if s["Sid"] == "PlatformTokenKeys"
    ]
    assert sorted(token_keys["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert token_keys["Resource"] == [{"Fn::GetAtt": ["PlatformTokensKey", "Arn"]}]
    assert token_keys["Condition"]["ForAllValues:StringEquals"] == {
        "kms:EncryptionContextKeys": CONTEXT_KEYS
    }
    for statement in statements(template, "VaultRole"):
        assert "PlatformTokensKey" not in references(statement)
    policy = properties(template, "PlatformTokensKey")["KeyPolicy"]["Statement"]
    for statement in policy:  # never without a grant's context, whoever IAM lets in
        granted = set(actions_of(statement))
        if granted & {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt", "kms:*"}:
            condition = statement["Condition"]
            assert condition["Null"] == {
                f"kms:EncryptionContext:{k}": "false" for k in CONTEXT_KEYS
            }


def test_chalice_granting_anything_else_on_everything_fails_the_build():
    broadened = chalice_template()
    policy = broadened["Resources"]["DefaultRole"]["Properties"]["Policies"][0]
    policy["PolicyDocument"]["Statement"].append(
        {"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": "*"}
    )
    with pytest.raises(ValueError, match=r"dynamodb:\*"):
        build.merge(broadened, stage="dev", region=load_region("us-east-1"))


# The functions


def test_functions_find_their_resources_through_their_settings(template, region):
    for function_id in APP_FUNCTIONS:
        env = environment(template, function_id)
        assert env["SHOPPABLE_MAIN_TABLE"] == {"Ref": "MainTable"}
        for spec in QUEUES:
            queue_name = {"Fn::GetAtt": [resources.queue_id(spec), "QueueName"]}
            assert env[resources.env_name(spec.setting)] == queue_name
        assert env["SHOPPABLE_VAULT_FUNCTION"] == {"Ref": "Vault"}
        assert env["SHOPPABLE_STAGE"] == "dev"
        assert env["SHOPPABLE_DEFAULT_CURRENCY"] == load_region(region).default_currency
        expected = SECRETS_OF.get(function_id, SECRETS_OF["worker"])
        assert references(env[SECRET_ARNS_VARIABLE]) == expected
        assert env["SHOPPABLE_PLATFORM_TOKENS_KEY_ID"] == {
            "Fn::GetAtt": ["PlatformTokensKey", "Arn"]
        }
        assert not set(env) & {"SHOPPABLE_VAULT_TABLE", "SHOPPABLE_VAULT_KEY_ID"}
    vault = environment(template, "Vault")
    assert references(vault.pop(SECRET_ARNS_VARIABLE)) == SECRETS_OF["Vault"]
    assert vault == {
        "SHOPPABLE_STAGE": "dev",
        "SHOPPABLE_VAULT_TABLE": {"Ref": "VaultTable"},
        "SHOPPABLE_VAULT_KEYS_TABLE": {"Ref": "VaultKeysTable"},
        "SHOPPABLE_VAULT_KEY_ID": {"Fn::GetAtt": ["VaultKey", "Arn"]},
        "SHOPPABLE_MAIN_TABLE": {"Ref": "MainTable"},  # its outbox, for customer.erased
    }


def test_every_function_logs_to_its_own_group_with_the_regions_retention(template, region):
    for function_id, function in functions(template).items():
        group_id = resources.log_group_id(function_id)
        group = properties(template, group_id)
        assert group["RetentionInDays"] == load_region(region).log_retention_days
        assert group["KmsKeyId"] == {"Fn::GetAtt": ["StackKey", "Arn"]}
        assert function["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": group_id}}
        assert function["Properties"]["KmsKeyArn"] == {"Fn::GetAtt": ["StackKey", "Arn"]}
        (logs,) = [s for s in statements(template, role_of(function_id)) if s["Sid"] == "Logs"]
        assert {"Fn::GetAtt": [group_id, "Arn"]} in logs["Resource"]
    (vault_logs,) = [s for s in statements(template, "VaultRole") if s["Sid"] == "Logs"]
    assert vault_logs["Resource"] == [{"Fn::GetAtt": ["VaultLogGroup", "Arn"]}]


def test_public_routes_are_throttled_tighter_than_the_rest(template, region):
    settings = {
        (s["ResourcePath"], s["HttpMethod"]): s
        for s in properties(template, "RestAPI")["MethodSettings"]
    }
    limits = load_region(region)
    everything = settings[("/*", "*")]
    assert everything["ThrottlingRateLimit"] == limits.api_throttle.rate_limit
    for path, method in build.public_routes():
        tight = settings[(build.method_path(path), method)]
        assert tight["ThrottlingRateLimit"] == limits.public_api_throttle.rate_limit
        assert tight["ThrottlingBurstLimit"] == limits.public_api_throttle.burst_limit
    for public in [("/v1/checkouts", "POST"), ("/v1/webhooks/stripe", "POST")]:
        assert (build.method_path(public[0]), public[1]) in settings
    assert ("/~1v1~1checkouts", "OPTIONS") in settings  # browsers' preflight
    assert ("/~1v1~1products", "POST") not in settings  # a merchant's key: the stage limit


def test_unknown_paths_and_methods_answer_the_contracts_bodies(template):
    """API Gateway answers an unmatched request itself (403 "Missing Authentication Token"):
    the stack makes it the contract's 404, and sends unknown methods of known paths to the
    function, which answers 405 (tests/integration/test_http_contract.py)."""
    import app
    from chalicelib.web import operations

    definition = properties(template, "RestAPI")["DefinitionBody"]
    responses = definition["x-amazon-apigateway-gateway-responses"]
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    assert json.loads(missing["responseTemplates"]["application/json"]) == {
        "error": {
            "type": "not_found",
            "code": "route_missing",
            "message": "No such route: check the method and the path.",
            "param": None,
        }
    }
    shapes = {kind: json.loads(r["responseTemplates"]["application/json"])["error"]
              for kind, r in responses.items()}  # fmt: skip
    assert {kind: (r.get("statusCode"), shapes[kind]["type"]) for kind, r in responses.items()} == {
        "MISSING_AUTHENTICATION_TOKEN": ("404", "not_found"),
        "THROTTLED": ("429", "rate_limited"),
        "REQUEST_TOO_LARGE": ("413", "invalid_request"),
        "DEFAULT_5XX": (None, "api_error"),  # API Gateway's own 5xx status, our body
    }
    for shape in shapes.values():
        assert set(shape) == {"type", "code", "message", "param"}
    api_handler = {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/"
                   "2015-03-31/functions/${APIHandler.Arn}/invocations"}  # fmt: skip
    for path, methods in definition["paths"].items():
        anything = methods["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        assert (anything["type"], anything["uri"]) == ("aws_proxy", api_handler), path
    assert len(definition["paths"]) == len({op.path for op in operations(app.app)})


def test_api_5xx_alarm_watches_this_stacks_api(template):
    assert properties(template, "RestAPI")["Name"] == {"Fn::Sub": "${AWS::StackName}"}
    alarm = properties(template, "ApiServerErrorsAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ApiGateway", "5XXError")
    assert alarm["Dimensions"] == [
        {"Name": "ApiName", "Value": {"Fn::Sub": "${AWS::StackName}"}},
        {"Name": "Stage", "Value": properties(template, "RestAPI")["StageName"]},
    ]
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_alarms_reach_the_regions_targets_through_an_encrypted_topic(template, region):
    topic = properties(template, "AlarmTopic")
    assert topic["KmsMasterKeyId"] == {"Ref": "StackKey"}
    assert [s["Endpoint"] for s in topic["Subscription"]] == load_region(region).alarm_emails


# Residency and independence


def test_data_is_tagged_with_the_regions_residency(template, region):
    tag = {"Key": resources.RESIDENCY_TAG, "Value": load_region(region).data_residency}
    for kind in (
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::SecretsManager::Secret",
        "AWS::KMS::Key",
        "AWS::Logs::LogGroup",
        "AWS::SNS::Topic",
    ):
        for logical_id, resource in resources_of(template, kind).items():
            assert tag in resource["Properties"]["Tags"], logical_id
    for function in functions(template).values():
        assert function["Properties"]["Tags"][tag["Key"]] == tag["Value"]


def test_each_regions_stack_stands_alone(template, region):
    text = json.dumps(template)
    assert "Fn::ImportValue" not in text
    assert not re.search(r"\b\d{12}\b", text), "an account id is written in"
    for other in set(REGIONS) - {region}:
        assert other not in text, f"{other} is written in the {region} stack"
    assert not re.search(r"arn:aws:[a-z0-9-]+:[a-z]{2}-", text), "an ARN with its region written in"
    for secret in resources_of(template, "AWS::SecretsManager::Secret").values():
        assert "ReplicaRegions" not in secret["Properties"]
    declared = set(template["Resources"]) | set(template.get("Parameters", {}))
    assert references(template) <= declared


def test_region_settings_set_only_plain_settings():
    base = load_region("eu-west-1")
    fields = {**base.__dict__, "settings": {"SHOPPABLE_STOREFRONT_URL": "https://shop.eu"}}
    good = Region(**fields)
    env = environment(build.merge(chalice_template(), stage="dev", region=good), "APIHandler")
    assert env["SHOPPABLE_STOREFRONT_URL"] == "https://shop.eu"
    for wrong in ("SHOPPABLE_MAIN_TABLE", "STRIPE_API_KEY", "SHOPPABLE_NO_SUCH_THING"):
        bad = Region(**{**fields, "settings": {wrong: "x"}})
        with pytest.raises(ValueError, match=wrong):
            build.merge(chalice_template(), stage="dev", region=bad)


def test_a_region_file_is_checked_when_loaded(tmp_path, monkeypatch):
    from infra import regions

    assert isinstance(load_region("us-east-1").api_throttle, Throttle)
    monkeypatch.setattr(regions, "REGIONS", tmp_path)
    good = json.loads((build.INFRA / "regions" / "eu-west-1.json").read_text())
    (tmp_path / "eu-west-1.json").write_text(json.dumps({**good, "region": "eu-west-2"}))
    with pytest.raises(SystemExit, match="is for region 'eu-west-2'"):
        regions.load_region("eu-west-1")
    (tmp_path / "eu-west-1.json").write_text(json.dumps({**good, "alarm_emails": []}))
    with pytest.raises(SystemExit, match="alarm_emails"):
        regions.load_region("eu-west-1")
    (tmp_path / "eu-west-1.json").write_text(json.dumps({**good, "colour": "blue"}))
    with pytest.raises(SystemExit, match="colour"):
        regions.load_region("eu-west-1")
    with pytest.raises(SystemExit, match="known: eu-west-1"):
        regions.load_region("mars-north-1")


def test_make_package_writes_every_regions_template(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "package", lambda stage, region, out: chalice_template())
    for region in REGIONS:
        path = build.build(region, "prod", tmp_path / region)
        written = json.loads(path.read_text())
        assert written["Description"].startswith(f"Shoppable prod in {region}")
    with pytest.raises(SystemExit, match="stage"):
        build.build("us-east-1", "Prod!", tmp_path)


def test_the_roles_are_the_only_iam_in_the_stack(template):
    roles = set(resources_of(template, "AWS::IAM::Role"))
    assert roles == {access.APP_ROLE, access.WORKER_ROLE, access.VAULT_ROLE}
    assert set(resources_of(template, "AWS::IAM::Policy")) == {access.VAULT_ACCESS}


def test_a_web_acl_limits_each_address_on_the_public_routes(template, region):
    acl = properties(template, resources.WEB_ACL)
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    limits = load_region(region).waf
    for name, path, method, limit in [
        ("CheckoutsPerAddress", "/v1/checkouts", "POST", limits.checkouts_per_address),
        ("StorefrontPerAddress", "/v1/storefront/", None, limits.storefront_per_address),
    ]:
        rate = rules[name]["Statement"]["RateBasedStatement"]
        assert (rate["Limit"], rate["AggregateKeyType"]) == (limit, "IP")
        scope = rate["ScopeDownStatement"]
        matches = scope["AndStatement"]["Statements"] if method else [scope]
        matched = {next(iter(m["ByteMatchStatement"]["FieldToMatch"])):
                   m["ByteMatchStatement"]["SearchString"] for m in matches}  # fmt: skip
        assert matched == ({"UriPath": path, "Method": method} if method else {"UriPath": path})
        assert rules[name]["Action"] == {"Block": {}}
    assert not any("webhooks" in json.dumps(rule) for rule in acl["Rules"])
    association = properties(template, resources.WEB_ACL_ASSOCIATION)
    assert association["WebACLArn"] == {"Fn::GetAtt": [resources.WEB_ACL, "Arn"]}
    assert references(association["ResourceArn"]) == {"RestAPI"}
    assert "/stages/${RestAPI.Stage}" in association["ResourceArn"]["Fn::Sub"]
