"""`make deploy` (infra/deploy.py), against moto: never a real account, never in CI.

moto's CloudFormation makes the change set (what an operator reviews) but cannot execute it
(it knows neither the SAM transform nor some of our resource types), so these tests stop at
`--no-execute`; test_infra_stack.py creates the stack's resources instead.
"""

import json

import boto3
import pytest
from moto import mock_aws

from infra import deploy

from .infra_fixtures import stack

REGION = "eu-west-1"
BUCKET = "acme-shoppable-deployments"


@pytest.fixture
def built(tmp_path, monkeypatch):
    """What `make package REGION=eu-west-1 STAGE=prod` leaves, in a scratch directory."""
    (tmp_path / "template.json").write_text(json.dumps(stack(REGION, "prod")))
    (tmp_path / "deployment.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    monkeypatch.setattr(deploy, "build_dir", lambda region, stage: tmp_path)
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


@pytest.fixture
def aws(built):
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        session.client("s3").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield session


@pytest.mark.parametrize("ci", ["true", "1", "TRUE"])
def test_it_refuses_to_run_in_ci(built, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(deploy.Refused, match="never CI"):
        deploy.main(["--region", REGION, "--stage", "prod", "--bucket", BUCKET])


def test_it_needs_a_bucket_and_a_build(built, tmp_path):
    with pytest.raises(SystemExit, match="no deployment bucket"):
        deploy.deploy(REGION, "prod", None)
    (built / "template.json").unlink()
    with pytest.raises(SystemExit, match="make package REGION=eu-west-1 STAGE=prod"):
        deploy.deploy(REGION, "prod", BUCKET)


def test_it_uploads_the_code_and_proposes_the_stack(aws):
    printed = []
    outputs = deploy.deploy(REGION, "prod", BUCKET, execute=False, session=aws, out=printed.append)
    assert outputs == {}

    s3 = aws.client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    (code,) = [k for k in keys if k.endswith(".zip")]
    (template_key,) = [k for k in keys if k.endswith(".template.json")]
    assert code.startswith(f"shoppable/prod-{REGION}/")
    uploaded = json.loads(s3.get_object(Bucket=BUCKET, Key=template_key)["Body"].read())
    for resource in uploaded["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            assert resource["Properties"]["CodeUri"] == {"Bucket": BUCKET, "Key": code}

    cloudformation = aws.client("cloudformation")
    (change_set,) = cloudformation.list_change_sets(StackName="shoppable-prod")["Summaries"]
    described = cloudformation.describe_change_set(
        StackName="shoppable-prod", ChangeSetName=change_set["ChangeSetName"]
    )
    added = {c["ResourceChange"]["LogicalResourceId"] for c in described["Changes"]}
    assert {"MainTable", "VaultTable", "VaultKey", "StripeSecret", "Vault", "VaultRole"} <= added
    assert any("Add     MainTable AWS::DynamoDB::Table" in line for line in printed)
    assert printed[-1].endswith("is ready for review; not executed")


def test_the_same_code_is_uploaded_once(aws):
    for _ in range(2):
        deploy.deploy(REGION, "prod", BUCKET, execute=False, session=aws, out=lambda _: None)
    keys = [o["Key"] for o in aws.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert len(keys) == 2  # one zip and one template, each named by its content
