"""Deploy smoke test: each region's stack, created by the emulator's CloudFormation, runs a sale.

For every region, the merged template's non-Lambda resources go through moto's CloudFormation
(`create_stack`): the tables, queues and their dead-letter queues, both keys and their aliases,
the alarm topic, the log groups and the vault's role. moto's CloudFormation cannot create two
of our resource types, so those are created from their template properties through the API,
as CloudFormation would: the secrets (the vault's index key generated, the others empty until
the "operator" puts a value) and the alarms. moto also mis-reads KMS key tags in templates, so
the keys go without tags.

Then each function's environment is resolved from the template against what was created, and
the app runs on it through `chalice.test.Client`: the app functions with their environment,
the vault with the vault function's (called in-process, as its own runtime). Secrets come from
Secrets Manager through `chalicelib/adapters/secrets.py`, as in Lambda. Only Stripe is the test
stand-in (localstripe); a deployed stack talks to Stripe itself.
"""

import json
import os
import re
from dataclasses import dataclass

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib import runtime as runtime_module
from chalicelib.adapters.dynamodb.schema import MAIN_TABLE
from chalicelib.config import Settings
from chalicelib.resources import QUEUES
from chalicelib.runtime import Runtime
from chalicelib.vault.client import InProcess, VaultClient
from chalicelib.vault.keyring import key_context
from chalicelib.vault.schema import VAULT_TABLES
from devstack.cli import main as cli
from infra import build
from infra.regions import load_region
from infra.resources import logical_id, queue_id
from tests.fixtures.app import Api, product_body

from .infra_fixtures import REGIONS, environment, functions, references, resources_of, stack
from .stripe_helpers import event, pay, signed

STACK = build.stack_name("dev")
ACCOUNT = "123456789012"  # moto's
BY_CLOUDFORMATION = {
    "AWS::DynamoDB::Table",
    "AWS::IAM::Role",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
    "AWS::Logs::LogGroup",
    "AWS::SNS::Topic",
    "AWS::SQS::Queue",
}
BY_API = {"AWS::SecretsManager::Secret", "AWS::CloudWatch::Alarm"}
STRIPE_VALUES = {
    "STRIPE_API_KEY": "sk_test_stack",
    "SHOPPABLE_STRIPE_WEBHOOK_SECRET": "whsec_stack",
}


# Creating the stack in the emulator


def used_attributes(template: dict) -> set[tuple[str, str | None]]:
    """Every (logical id, attribute or None for Ref) the template reads."""
    found: set[tuple[str, str | None]] = set()

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "Ref" and isinstance(inner, str):
                    found.add((inner, None))
                elif key == "Fn::GetAtt":
                    found.add((inner[0], inner[1]))
                elif key == "Fn::Sub":
                    text = inner if isinstance(inner, str) else inner[0]
                    for name in re.findall(r"\$\{([^}!]+)\}", text):
                        target, _, attribute = name.partition(".")
                        found.add((target, attribute or None))
                    walk(inner)
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(template)
    return found


def cloudformation_part(template: dict) -> dict:
    """The resources moto's CloudFormation creates, and an output for each value read."""
    resources = template["Resources"]
    kept = {k for k, v in resources.items() if v["Type"] in BY_CLOUDFORMATION}
    while True:  # leave out what refers to anything left out (the functions, the API)
        dropped = {k for k in kept if not references(resources[k]) <= kept}
        if not dropped:
            break
        kept -= dropped
    body = {k: json.loads(json.dumps(resources[k])) for k in sorted(kept)}
    for resource in body.values():
        if resource["Type"] == "AWS::KMS::Key":
            resource["Properties"].pop("Tags")  # moto expects KMS's API shape for these
    outputs = {
        f"{target}{attribute or 'Ref'}": {
            "Value": {"Ref": target} if attribute is None else {"Fn::GetAtt": [target, attribute]}
        }
        for target, attribute in used_attributes(template)
        if target in kept
    }
    return {"AWSTemplateFormatVersion": "2010-09-09", "Resources": body, "Outputs": outputs}


class Resolver:
    """Evaluates the template's intrinsic functions against what was created."""

    def __init__(self, region: str, values: dict[tuple[str, str | None], str]):
        self.values = values
        self.pseudo = {
            "AWS::StackName": STACK,
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }

    def lookup(self, target: str, attribute: str | None) -> str:
        if attribute is None and target in self.pseudo:
            return self.pseudo[target]
        if (target, attribute) not in self.values:
            raise KeyError(f"{target}.{attribute or 'Ref'} was not created")
        return self.values[(target, attribute)]

    def __call__(self, value):
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.lookup(value["Ref"], None)
        if set(value) == {"Fn::GetAtt"}:
            return self.lookup(*value["Fn::GetAtt"])
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(self(part) for part in parts)
        if set(value) == {"Fn::Sub"}:
            text, local = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value
            local = {k: self(v) for k, v in local.items()}

            def replace(match):
                name = match.group(1)
                if name in local:
                    return local[name]
                target, _, attribute = name.partition(".")
                return self.lookup(target, attribute or None)

            return re.sub(r"\$\{([^}!]+)\}", replace, text)
        return {k: self(v) for k, v in value.items()}


def create_stack(template: dict, region: str) -> Resolver:
    cloudformation = boto3.client("cloudformation", region_name=region)
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(cloudformation_part(template)),
        Capabilities=["CAPABILITY_IAM"],
    )
    (created,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    assert created["StackStatus"] == "CREATE_COMPLETE"
    values: dict[tuple[str, str | None], str] = {}
    for target, attribute in used_attributes(template):
        for output in created["Outputs"]:
            if output["OutputKey"] == f"{target}{attribute or 'Ref'}":
                values[(target, attribute)] = output["OutputValue"]
    for function_id in functions(template):  # not created: their code runs in this process
        values[(function_id, None)] = f"{STACK}-{function_id}-not-deployed"
        values[(function_id, "Arn")] = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{function_id}"
    resolve = Resolver(region, values)

    secrets = boto3.client("secretsmanager", region_name=region)
    for secret_id, secret in resources_of(template, "AWS::SecretsManager::Secret").items():
        properties = resolve(secret["Properties"])
        request = {k: properties[k] for k in ("Name", "Description", "KmsKeyId", "Tags")}
        generate = properties.get("GenerateSecretString")
        if generate:
            value = secrets.get_random_password(
                PasswordLength=generate["PasswordLength"],
                ExcludePunctuation=generate["ExcludePunctuation"],
            )["RandomPassword"]
            template_value = json.loads(generate["SecretStringTemplate"])
            request["SecretString"] = json.dumps(
                {**template_value, generate["GenerateStringKey"]: value}
            )
        values[(secret_id, None)] = secrets.create_secret(**request)["ARN"]

    cloudwatch = boto3.client("cloudwatch", region_name=region)
    for alarm_id, alarm in resources_of(template, "AWS::CloudWatch::Alarm").items():
        cloudwatch.put_metric_alarm(AlarmName=f"{STACK}-{alarm_id}", **resolve(alarm["Properties"]))
    return resolve


# Running the app on it


@dataclass
class Deployed:
    region: str
    template: dict
    resolve: Resolver
    app: Settings
    vault: Settings
    rt: Runtime
    api: Api

    def created(self, logical: str) -> str:
        return self.resolve({"Ref": logical})


def settings_from(monkeypatch, environment: dict[str, str]) -> Settings:
    """`Settings` as a function with this environment reads them (on its first request)."""
    with monkeypatch.context() as scoped:
        for name in list(os.environ):
            if name.startswith(("SHOPPABLE_", "STRIPE_")):
                scoped.delenv(name)
        for name, value in environment.items():
            scoped.setenv(name, value)
        return Settings()


@pytest.fixture(params=REGIONS)
def deployed(request, monkeypatch, stripe_api_base):
    region = request.param
    template = stack(region)
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    with mock_aws():
        resolve = create_stack(template, region)
        # The operator's step after the first deploy: Stripe's values (runbook, 'Setting secrets').
        boto3.client("secretsmanager", region_name=region).put_secret_value(
            SecretId=resolve({"Ref": "StripeSecret"}), SecretString=json.dumps(STRIPE_VALUES)
        )
        app_env = resolve(environment(template, build.API_FUNCTION))
        vault_env = resolve(environment(template, build.VAULT_FUNCTION))
        # Only Stripe is the test's: localstripe instead of api.stripe.com.
        app = settings_from(monkeypatch, {**app_env, "STRIPE_API_BASE": stripe_api_base})
        vault = settings_from(monkeypatch, vault_env)
        for name in list(os.environ):
            if name.startswith("SHOPPABLE_"):
                monkeypatch.delenv(name)
        rt = runtime_module.reset(app)
        vault_rt = Runtime(vault)
        # The app's own minter (its edge key from its secret); the vault verifies with its own.
        rt.__dict__["vault"] = VaultClient(
            InProcess(lambda: vault_rt.vault_backend), rt.vault._mint
        )
        import app as chalice_app

        with Client(chalice_app.app) as client:
            yield Deployed(region, template, resolve, app, vault, rt, Api(client))
        runtime_module.reset()


# The tests


def test_cloudformation_creates_every_data_resource(deployed):
    region = deployed.region
    dynamodb = boto3.client("dynamodb", region_name=region)
    for table_id, definition in [("MainTable", MAIN_TABLE)] + [
        (logical_id(spec.setting), spec.definition) for spec in VAULT_TABLES
    ]:
        table = dynamodb.describe_table(TableName=deployed.created(table_id))["Table"]
        assert table["KeySchema"] == definition["KeySchema"]
        assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == {
            i["IndexName"] for i in definition.get("GlobalSecondaryIndexes", [])
        }

    sqs = boto3.client("sqs", region_name=region)
    for spec in QUEUES:
        name = deployed.resolve({"Fn::GetAtt": [queue_id(spec), "QueueName"]})
        assert name == f"{STACK}-{spec.setting.removesuffix('_queue')}"
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(f":{name}-dlq")
        assert int(redrive["maxReceiveCount"]) == spec.max_receive_count
        assert int(attributes["VisibilityTimeout"]) == spec.visibility_timeout

    aliases = {
        a["AliasName"]: a["TargetKeyId"]
        for a in boto3.client("kms", region_name=region).list_aliases()["Aliases"]
    }
    assert aliases[f"alias/{STACK}"] == deployed.created("StackKey")
    assert aliases[f"alias/{STACK}-vault"] == deployed.created("VaultKey")
    assert aliases[f"alias/{STACK}-platform-tokens"] == deployed.created("PlatformTokensKey")

    secrets = boto3.client("secretsmanager", region_name=region)
    names = {s["Name"] for s in secrets.list_secrets()["SecretList"]}
    assert {f"{STACK}/stripe", f"{STACK}/platforms", f"{STACK}/vault-index-key"} <= names

    alarms = boto3.client("cloudwatch", region_name=region).describe_alarms()["MetricAlarms"]
    topic = deployed.created("AlarmTopic")
    watched = {d["Value"] for a in alarms for d in a["Dimensions"] if d["Name"] == "QueueName"}
    for spec in QUEUES:
        assert deployed.resolve({"Fn::GetAtt": [f"{queue_id(spec)}DLQ", "QueueName"]}) in watched
    assert all(a["AlarmActions"] == [topic] for a in alarms)
    assert any(a["MetricName"] == "5XXError" for a in alarms)

    groups = boto3.client("logs", region_name=region).describe_log_groups(
        logGroupNamePrefix=f"/shoppable/{STACK}/"
    )["logGroups"]
    assert {g["logGroupName"].rsplit("/", 1)[-1] for g in groups} == set(
        functions(deployed.template)
    )
    assert {g["retentionInDays"] for g in groups} == {load_region(region).log_retention_days}


def test_each_function_gets_only_its_own_resources(deployed):
    app, vault = deployed.app, deployed.vault
    tables = set(boto3.client("dynamodb", region_name=deployed.region).list_tables()["TableNames"])
    # the app functions: the main table, the queues, Stripe from its secret; no vault
    assert app.main_table in tables
    assert app.stripe_api_key.get_secret_value() == STRIPE_VALUES["STRIPE_API_KEY"]
    assert app.vault_function
    assert app.vault_table not in tables and app.vault_keys_table not in tables
    assert app.vault_index_key is None
    assert app.meta_app_secret.get_secret_value() == ""  # platforms not configured yet
    tokens_key = deployed.resolve({"Fn::GetAtt": ["PlatformTokensKey", "Arn"]})
    assert app.platform_tokens_key_id == tokens_key
    assert len(app.oauth_state_secret.get_secret_value()) >= 44  # generated, never typed
    assert vault.oauth_state_secret.get_secret_value() == ""
    # the API mints vault assertions with its own key; the workers' is not its to read
    assert app.edge_caller_key is not None and app.request_digest_key is not None
    assert app.worker_caller_key is None
    # the vault function: its two tables, its key, its generated index key; nothing else
    assert {vault.vault_table, vault.vault_keys_table} <= tables
    assert vault.vault_key_id == deployed.resolve({"Fn::GetAtt": ["VaultKey", "Arn"]})
    assert vault.vault_index_key is not None
    assert vault.main_table == app.main_table  # only for customer.erased in its outbox
    assert vault.stripe_webhook_secret.get_secret_value() == ""
    assert vault.edge_caller_key == app.edge_caller_key and vault.worker_caller_key is not None
    assert vault.request_digest_key is None


def test_a_sale_runs_on_what_the_stack_created(deployed, capsys, stripe_api_base):
    api, rt, region = deployed.api, deployed.rt, deployed.region
    currency = load_region(region).default_currency
    assert api.get("/v1/health").status_code == 200

    # The operator creates the first merchant on the stack's table (runbook, 'First deploy').
    assert cli(["merchant", "create", "--name", "Corner Store", "--currency", currency]) == 0
    key = json.loads(capsys.readouterr().out)["api_key"]

    body = product_body()
    for variant in body["variants"]:
        variant["price"]["currency"] = currency
    product = api.post("/v1/products", body, key=key)
    assert product.status_code == 201, product.body
    variant = product.json["variants"][0]
    post = api.post(
        "/v1/posts",
        {
            "media": {"url": "https://cdn.example.com/look.jpg", "width": 1080, "height": 1350},
            "caption": "Summer linen",
            "tags": [{"product_id": product.json["id"], "x": 0.5, "y": 0.5}],
        },
        key=key,
    ).json
    assert api.get(f"/v1/storefront/posts/{post['id']}").status_code == 200

    checkout = api.post(
        "/v1/checkouts",
        {
            "post_id": post["id"],
            "lines": [{"variant_id": variant["id"], "quantity": 2}],
            "customer": {"email": "jane.doe@example.com", "name": "Jane Doe"},
            "shipping_address": {
                "line1": "1 Main Street",
                "city": "Springfield",
                "postal_code": "12345",
                "country": "US",
            },
        },
    )
    assert checkout.status_code == 201, checkout.body
    placed = checkout.json
    assert placed["customer"]["token"].startswith("cus_")

    # The buyer's data went to the stack's vault tables, under the stack's vault key.
    dynamodb = boto3.client("dynamodb", region_name=region)
    vault_items = dynamodb.scan(TableName=deployed.vault.vault_table)["Items"]
    assert vault_items
    main_items = json.dumps(dynamodb.scan(TableName=rt.settings.main_table)["Items"])
    assert "jane.doe@example.com" not in main_items and "Jane Doe" not in main_items
    token = placed["customer"]["token"]
    wrapped = dynamodb.get_item(
        TableName=deployed.vault.vault_keys_table,
        Key={"pk": {"S": f"KEY#{token}"}, "sk": {"S": "DATAKEY"}},
    )["Item"]
    blob, merchant_id = wrapped["wrapped_key"]["B"], wrapped["merchant_id"]["S"]
    opened = boto3.client("kms", region_name=region).decrypt(
        CiphertextBlob=blob, EncryptionContext=key_context(merchant_id, token)
    )
    assert opened["KeyId"] == deployed.resolve({"Fn::GetAtt": ["VaultKey", "Arn"]})

    # Stripe's signed event, verified with the secret from Secrets Manager, through the stack's
    # ingest queue to the consumer.
    pay(stripe_api_base, placed["payment_intent_id"])
    intent = _intent(stripe_api_base, placed["payment_intent_id"])
    payload, headers = signed(
        event("payment_intent.succeeded", intent),
        secret=STRIPE_VALUES["SHOPPABLE_STRIPE_WEBHOOK_SECRET"],
    )
    delivered = api.post("/v1/webhooks/stripe", raw=payload, headers=headers)
    assert delivered.status_code == 200, delivered.body
    _drain(api, rt)
    order = api.get(f"/v1/orders/{placed['order_id']}", key=key).json
    assert order["status"] == "paid"


def test_a_dead_letter_goes_back_to_the_stacks_queue(deployed, capsys):
    sqs = deployed.rt.sqs
    queue = deployed.rt.settings.ingest_queue
    dlq_url = sqs.get_queue_url(QueueName=f"{queue}-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq_url, MessageBody='{"failed": "once"}')
    assert cli(["dlq", "redrive", "--queue", queue, "--max", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["moved"] == 1
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    (back,) = sqs.receive_message(QueueUrl=url)["Messages"]
    assert back["Body"] == '{"failed": "once"}'


def _intent(stripe_api_base: str, intent_id: str) -> dict:
    import stripe

    client = stripe.StripeClient("sk_test_stack", base_addresses={"api": stripe_api_base})
    return client.v1.payment_intents.retrieve(intent_id).to_dict()


def _drain(api, rt) -> None:
    """Feed the stack's ingest queue to the consumer in Lambda's shape."""
    url = rt.sqs.get_queue_url(QueueName=rt.settings.ingest_queue)["QueueUrl"]
    while received := rt.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        sqs_event = api.client.events.generate_sqs_event(
            queue_name=rt.settings.ingest_queue, message_bodies=[m["Body"] for m in received]
        )
        result = api.client.lambda_.invoke("on_ingest", sqs_event).payload
        assert result == {"batchItemFailures": []}, result
        for message in received:
            rt.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
