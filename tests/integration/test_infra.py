"""The deployable stack: chalice's template merged with the resources defined in chalicelib.

`chalice package` runs once for the module, on the real app (about 7 s here; its pip step is
cached in `.chalice/deployments`), and the tests check the merge of its real output: the dev
stack as `make package` builds it, and prod by merging the same output again.
"""

import json

import boto3
import pytest
from moto import mock_aws

from chalicelib.adapters.dynamodb.schema import MAIN_TABLE, TTL_ATTRIBUTE
from chalicelib.resources import QUEUES
from infra import build

REGION = "eu-west-1"


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    """Chalice's own template, unmerged."""
    return build.package("dev", REGION, tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="module")
def template(packaged):
    return build.merge(packaged, stage="dev", region=build.load_region(REGION))


def resources_of(template, kind):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def the_table(template):
    (table,) = resources_of(template, "AWS::DynamoDB::Table").values()
    return table["Properties"]


def functions(template):
    return resources_of(template, "AWS::Serverless::Function")


def sqs_events(template):
    return [
        event
        for function in functions(template).values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]


def test_table_is_the_schema_in_code(template):
    table = the_table(template)
    assert table["KeySchema"] == MAIN_TABLE["KeySchema"]
    assert table["AttributeDefinitions"] == MAIN_TABLE["AttributeDefinitions"]
    assert table["GlobalSecondaryIndexes"] == MAIN_TABLE["GlobalSecondaryIndexes"]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert TTL_ATTRIBUTE == "ttl"
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_only_prod_protects_the_table_from_deletion(packaged, template):
    prod = build.merge(packaged, stage="prod", region=build.load_region(REGION))
    assert the_table(template)["DeletionProtectionEnabled"] is False
    assert the_table(prod)["DeletionProtectionEnabled"] is True


@pytest.mark.parametrize("spec", QUEUES, ids=lambda spec: spec.setting)
def test_every_queue_has_a_dead_letter_queue(template, spec):
    resources = template["Resources"]
    queue = resources[build.queue_id(spec)]
    redrive = queue["Properties"]["RedrivePolicy"]
    dlq_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert queue["Type"] == resources[dlq_id]["Type"] == "AWS::SQS::Queue"
    assert redrive["maxReceiveCount"] == spec.max_receive_count
    assert queue["Properties"]["VisibilityTimeout"] == spec.visibility_timeout


def test_sqs_events_report_batch_item_failures(template):
    events = sqs_events(template)
    assert events, "app.py declares at least one queue consumer"
    specs = {build.queue_id(spec): spec for spec in QUEUES}
    for event in events:
        properties = event["Properties"]
        queue_id, attribute = properties["Queue"]["Fn::GetAtt"]
        assert attribute == "Arn"
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert properties["BatchSize"] == specs[queue_id].batch_size


def test_an_sqs_event_on_an_unknown_queue_is_an_error(packaged):
    broken = json.loads(json.dumps(packaged))
    (event, *_) = sqs_events(broken)
    event["Properties"]["Queue"] = {"Fn::Sub": "arn:${AWS::Partition}:sqs:::not-ours"}
    with pytest.raises(ValueError, match="not-ours"):
        build.merge(broken, stage="dev", region=build.load_region(REGION))


def test_functions_find_the_resources_through_their_settings(template):
    table_id = next(iter(resources_of(template, "AWS::DynamoDB::Table")))
    for function in functions(template).values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["SHOPPABLE_MAIN_TABLE"] == {"Ref": table_id}
        for spec in QUEUES:
            queue_name = {"Fn::GetAtt": [build.queue_id(spec), "QueueName"]}
            assert env[build.env_name(spec.setting)] == queue_name
        assert env["SHOPPABLE_STAGE"] == "dev"
        assert env["SHOPPABLE_DEFAULT_CURRENCY"] == "EUR"


def test_the_role_reaches_only_our_table_and_queues(template):
    for role in resources_of(template, "AWS::IAM::Role").values():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                if any(a.startswith(("dynamodb:", "sqs:")) for a in actions):
                    assert statement["Resource"] != "*", statement
    statements = {
        s.get("Sid"): s
        for policy in template["Resources"]["DefaultRole"]["Properties"]["Policies"]
        for s in policy["PolicyDocument"]["Statement"]
    }
    assert {"Fn::GetAtt": ["MainTable", "Arn"]} in statements["MainTable"]["Resource"]
    assert "sqs:ReceiveMessage" in statements["WorkQueues"]["Action"]


def test_data_is_tagged_with_the_regions_residency(template):
    tag = {"Key": build.RESIDENCY_TAG, "Value": "EU"}
    assert tag in the_table(template)["Tags"]
    for queue in resources_of(template, "AWS::SQS::Queue").values():
        assert tag in queue["Properties"]["Tags"]


def test_cloudformation_creates_the_table_and_queues(template):
    # moto creates the data resources from the template; it ignores TTL and point-in-time
    # recovery in CloudFormation, so those are checked on the template above.
    kinds = {"AWS::DynamoDB::Table", "AWS::SQS::Queue"}
    data = {k: v for k, v in template["Resources"].items() if v["Type"] in kinds}
    body = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": data}
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName="shoppable-dev", TemplateBody=json.dumps(body))
        created = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cloudformation.describe_stack_resources(StackName="shoppable-dev")[
                "StackResources"
            ]
        }
        table = boto3.client("dynamodb", region_name=REGION).describe_table(
            TableName=created["MainTable"]
        )["Table"]
        assert table["KeySchema"] == MAIN_TABLE["KeySchema"]
        assert sorted(table["AttributeDefinitions"], key=str) == sorted(
            MAIN_TABLE["AttributeDefinitions"], key=str
        )
        assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {
            i["IndexName"] for i in MAIN_TABLE["GlobalSecondaryIndexes"]
        }

        sqs = boto3.client("sqs", region_name=REGION)
        for spec in QUEUES:
            attributes = sqs.get_queue_attributes(
                QueueUrl=created[build.queue_id(spec)], AttributeNames=["All"]
            )["Attributes"]
            redrive = json.loads(attributes["RedrivePolicy"])
            assert int(redrive["maxReceiveCount"]) == spec.max_receive_count
            dlq_arn = sqs.get_queue_attributes(
                QueueUrl=created[f"{build.queue_id(spec)}DLQ"], AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            assert redrive["deadLetterTargetArn"] == dlq_arn
