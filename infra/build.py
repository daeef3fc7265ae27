"""Build one region's stack: `python -m infra.build --region eu-west-1 --stage dev`.

Writes `infra/build/<stage>-<region>/template.json` (SAM) and the `deployment.zip` it refers to.

`chalice package` knows what `app.py` declares: the functions, the API, the event sources and a
role. It knows nothing of the table and queues the code uses. Those are defined once in
`chalicelib` (`adapters.dynamodb.schema.MAIN_TABLE`, `resources.QUEUES`), the same definitions
that `make run` and the tests create in the emulator, and `merge` adds them to chalice's template:

1. the main table: MAIN_TABLE's keys and indexes as they are, TTL on `ttl`, on-demand billing,
   point-in-time recovery, encryption at rest, and deletion protection in prod;
2. each `QueueSpec`: a queue and its dead-letter queue joined by a redrive policy
   (`maxReceiveCount` from the spec), and an alarm when anything lands in the dead-letter queue;
3. every function's environment: the `SHOPPABLE_<FIELD>` names that `chalicelib.config.Settings`
   reads, set to references to those resources (CloudFormation names them; nothing is
   written twice);
4. every SQS event source: the queue by reference, the spec's batch size, and
   `ReportBatchItemFailures`, which chalice cannot ask for (DESIGN §7);
5. the functions' role: DynamoDB on the table and its indexes, SQS on the work queues; chalice's
   SQS statement on `*` is replaced by one on the queues;
6. the region's file, `infra/regions/<region>.json`: a data-residency tag on everything that
   holds data, the default currency, and the address the alarms go to.

`merge` is pure (template in, template out) so the tests can check it on chalice's output;
`package` is the only code that runs chalice.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

from chalicelib.adapters.dynamodb.schema import MAIN_TABLE, TTL_ATTRIBUTE
from chalicelib.config import Settings
from chalicelib.resources import QUEUES, QueueSpec

INFRA = Path(__file__).resolve().parent
ROOT = INFRA.parent
REGIONS = INFRA / "regions"
BUILD = INFRA / "build"

FUNCTION = "AWS::Serverless::Function"
TABLE = "MainTable"
ALARM_TOPIC = "AlarmTopic"
RESIDENCY_TAG = "shoppable:data-residency"
DLQ_RETENTION_SECONDS = 14 * 24 * 3600  # the most SQS allows: time to look at what failed

# What the adapters call: the table adapter, Powertools' idempotency layer (which also deletes)
# and the health check. A transaction is authorised by the actions of its items.
TABLE_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]
# Lambda's event source mapping polls with the role's receive, delete and attributes; the
# routes enqueue by queue name.
QUEUE_ACTIONS = [
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
]


@dataclass(frozen=True)
class Region:
    """What differs between regions, from `infra/regions/<region>.json`."""

    region: str
    data_residency: str  # a label for where customer data stays, e.g. "EU"
    default_currency: str  # ISO 4217
    alarm_email: str


def load_region(region: str) -> Region:
    path = REGIONS / f"{region}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in REGIONS.glob("*.json")))
        raise SystemExit(f"no settings for region {region!r} in {REGIONS} (known: {known})")
    settings = Region(**json.loads(path.read_text()))
    if settings.region != region:
        raise SystemExit(f"{path} is for region {settings.region!r}, not {region!r}")
    return settings


# The merge (pure)


def env_name(setting: str) -> str:
    """The environment variable `Settings` reads a field from."""
    assert setting in Settings.model_fields, f"Settings has no field {setting!r}"
    return Settings.model_config["env_prefix"] + setting.upper()


def queue_id(spec: QueueSpec) -> str:
    """`ingest_queue` -> `IngestQueue`."""
    return "".join(word.title() for word in spec.setting.split("_"))


def table_resource(stage: str, region: Region) -> dict:
    properties = {
        **deepcopy(MAIN_TABLE),  # keys, indexes and on-demand billing
        "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
        "DeletionProtectionEnabled": stage == "prod",
        "Tags": [{"Key": RESIDENCY_TAG, "Value": region.data_residency}],
    }
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def queue_resources(spec: QueueSpec, region: Region) -> dict[str, dict]:
    """The queue, its dead-letter queue, and an alarm on the dead-letter queue."""
    name = queue_id(spec)
    tags = [{"Key": RESIDENCY_TAG, "Value": region.data_residency}]
    return {
        f"{name}DLQ": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "MessageRetentionPeriod": DLQ_RETENTION_SECONDS,
                "SqsManagedSseEnabled": True,
                "Tags": tags,
            },
        },
        name: {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": spec.visibility_timeout,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [f"{name}DLQ", "Arn"]},
                    "maxReceiveCount": spec.max_receive_count,
                },
                "SqsManagedSseEnabled": True,
                "Tags": tags,
            },
        },
        f"{name}DLQAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"Messages failed {spec.max_receive_count} times on {name}",
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [
                    {"Name": "QueueName", "Value": {"Fn::GetAtt": [f"{name}DLQ", "QueueName"]}}
                ],
                "Statistic": "Maximum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [{"Ref": ALARM_TOPIC}],
            },
        },
    }


def alarm_topic(region: Region) -> dict:
    return {
        "Type": "AWS::SNS::Topic",
        "Properties": {"Subscription": [{"Protocol": "email", "Endpoint": region.alarm_email}]},
    }


def function_environment(stage: str, region: Region) -> dict:
    """The settings every function gets; the names are `Settings`' own."""
    env = {
        env_name("stage"): stage,
        env_name("main_table"): {"Ref": TABLE},
        # Not a Settings field yet: the currency a new merchant starts with in this region.
        Settings.model_config["env_prefix"] + "DEFAULT_CURRENCY": region.default_currency,
    }
    for spec in QUEUES:
        # A queue's Ref is its URL; the setting holds its name.
        env[env_name(spec.setting)] = {"Fn::GetAtt": [queue_id(spec), "QueueName"]}
    return env


def wire_sqs_event(function_id: str, function: dict, event: dict) -> None:
    """Point chalice's SQS event at our queue, with the spec's batch and partial failures."""
    properties = event["Properties"]
    arn = properties["Queue"]
    queue_name = arn.get("Fn::Sub", "").rsplit(":", 1)[-1] if isinstance(arn, dict) else ""
    specs = {Settings.model_fields[spec.setting].default: spec for spec in QUEUES}
    if queue_name not in specs:
        raise ValueError(
            f"{function_id} consumes {arn!r}, which is no QueueSpec in chalicelib.resources "
            f"(queues: {', '.join(specs)})"
        )
    spec = specs[queue_name]
    timeout = function["Properties"].get("Timeout", 3)
    if timeout > spec.visibility_timeout:
        raise ValueError(
            f"{function_id} runs up to {timeout}s but {spec.setting} hides a message for "
            f"{spec.visibility_timeout}s; Lambda rejects the event source mapping"
        )
    properties["Queue"] = {"Fn::GetAtt": [queue_id(spec), "Arn"]}
    properties["BatchSize"] = spec.batch_size
    properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]


def data_statements() -> list[dict]:
    queue_arns = [{"Fn::GetAtt": [queue_id(spec), "Arn"]} for spec in QUEUES]
    table_arn = {"Fn::GetAtt": [TABLE, "Arn"]}
    return [
        {
            "Sid": "MainTable",
            "Effect": "Allow",
            "Action": TABLE_ACTIONS,
            "Resource": [table_arn, {"Fn::Sub": f"${{{TABLE}.Arn}}/index/*"}],
        },
        {"Sid": "WorkQueues", "Effect": "Allow", "Action": QUEUE_ACTIONS, "Resource": queue_arns},
    ]


def _is_sqs_on_anything(statement: dict) -> bool:
    actions = statement.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    return statement.get("Resource") == "*" and all(a.startswith("sqs:") for a in actions)


def grant_data_access(role: dict) -> None:
    """Replace chalice's SQS-on-`*` statement with ours, scoped to our table and queues."""
    policies = role["Properties"].setdefault("Policies", [])
    for policy in policies:
        document = policy["PolicyDocument"]
        document["Statement"] = [s for s in document["Statement"] if not _is_sqs_on_anything(s)]
    policies.append(
        {
            "PolicyName": "ShoppableData",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": data_statements()},
        }
    )


def merge(template: dict, *, stage: str, region: Region) -> dict:
    """Chalice's SAM template plus the table, queues, settings and permissions (a new dict)."""
    merged = deepcopy(template)
    resources = merged["Resources"]

    ours = {TABLE: table_resource(stage, region), ALARM_TOPIC: alarm_topic(region)}
    for spec in QUEUES:
        ours.update(queue_resources(spec, region))
    clash = sorted(set(ours) & set(resources))
    if clash:
        raise ValueError(f"chalice's template already has {', '.join(clash)}")
    resources.update(ours)

    roles = set()
    environment = function_environment(stage, region)
    for function_id, function in resources.items():
        if function["Type"] != FUNCTION:
            continue
        properties = function["Properties"]
        properties.setdefault("Environment", {}).setdefault("Variables", {}).update(environment)
        properties.setdefault("Tags", {})[RESIDENCY_TAG] = region.data_residency
        for event in properties.get("Events", {}).values():
            if event["Type"] == "SQS":
                wire_sqs_event(function_id, function, event)
        role = properties.get("Role")
        if not (isinstance(role, dict) and "Fn::GetAtt" in role):
            raise ValueError(f"{function_id} has a role from outside the stack: {role!r}")
        roles.add(role["Fn::GetAtt"][0])
    for role_id in sorted(roles):
        grant_data_access(resources[role_id])

    merged["Description"] = f"Shoppable {stage} in {region.region} ({region.data_residency} data)"
    outputs = merged.setdefault("Outputs", {})
    outputs["MainTableName"] = {"Value": {"Ref": TABLE}}
    for spec in QUEUES:
        outputs[f"{queue_id(spec)}Url"] = {"Value": {"Ref": queue_id(spec)}}
    return merged


# Chalice, and the command


def package(stage: str, region: str, out_dir: Path) -> dict:
    """Run `chalice package`; leaves `deployment.zip` in `out_dir`, returns the SAM template.

    Chalice pip-installs requirements.txt for Lambda's platform (from PyPI, or its cache in
    `.chalice/deployments`). It needs a region but never an account: it runs with no
    credentials, and with no `SHOPPABLE_*` settings, so that the queue names it writes are
    the settings' defaults that `wire_sqs_event` looks for.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SHOPPABLE_"))}
    env.update(
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    chalice = Path(sys.executable).with_name("chalice")
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "package"
        command = [str(chalice), "package", "--stage", stage, "--pkg-format", "cloudformation"]
        done = subprocess.run(  # noqa: S603 (our own arguments)
            [*command, str(target)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"chalice package failed:\n{done.stdout}{done.stderr}")
        out_dir.mkdir(parents=True, exist_ok=True)
        (target / "deployment.zip").replace(out_dir / "deployment.zip")
        return json.loads((target / "sam.json").read_text())


def build(region: str, stage: str, out_dir: Path | None = None) -> Path:
    """Package and merge one region's stack; returns the template's path."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", stage):
        raise SystemExit(f"stage {stage!r}: use lower-case letters, digits and dashes")
    settings = load_region(region)
    out_dir = out_dir or BUILD / f"{stage}-{region}"
    template = merge(package(stage, region, out_dir), stage=stage, region=settings)
    path = out_dir / "template.json"
    path.write_text(json.dumps(template, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m infra.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--region", required=True, help="one of infra/regions/*.json")
    parser.add_argument("--stage", required=True, help="e.g. dev, prod")
    args = parser.parse_args(argv)
    path = build(args.region, args.stage)
    print(f"wrote {path.relative_to(ROOT)} (and deployment.zip beside it)")


if __name__ == "__main__":
    main()
