"""Deploy one region's stack: `make deploy REGION=eu-west-1 STAGE=prod [BUCKET=…]`.

For operators, with their own AWS credentials (the usual AWS_PROFILE or environment); never in
CI, where it refuses to run. After `make package` has built `infra/build/<stage>-<region>/`:

1. uploads `deployment.zip` and the template to the deployment bucket (`--bucket`, else the
   region file's `deployment_bucket`), under names made from their SHA-256, and points every
   function's `CodeUri` at the uploaded code, as `aws cloudformation package` would;
2. creates a change set for stack `shoppable-<stage>` in the region (a create the first time),
   prints what it would change, and executes it unless `--no-execute`;
3. waits for the stack and prints its outputs; a new prod stack gets termination protection.

The template goes by URL, not in the request: it is larger than CloudFormation's 51,200-byte
limit for a template body.
"""

import argparse
import hashlib
import json
import os
import sys
import time
from copy import deepcopy

import boto3
from botocore.exceptions import WaiterError

from .build import FUNCTION, build_dir, check_stage, stack_name
from .regions import load_region

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # our roles; the SAM transform
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


class Refused(SystemExit):
    pass


def refuse_in_ci(environ=os.environ) -> None:
    if environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise Refused("make deploy is for operators with their own credentials, never CI.")


def upload(s3, bucket: str, prefix: str, body: bytes, suffix: str) -> str:
    """Put `body` under its content hash (once); returns the key."""
    key = f"{prefix}/{hashlib.sha256(body).hexdigest()}{suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        s3.put_object(Bucket=bucket, Key=key, Body=body)  # the bucket's default encryption
    return key


def with_code_at(template: dict, bucket: str, key: str) -> dict:
    """The template with every function's code in S3 (a new dict)."""
    placed = deepcopy(template)
    for resource in placed["Resources"].values():
        if resource["Type"] == FUNCTION:
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
    return placed


def stack_exists(cloudformation, name: str) -> bool:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" in str(error):
            return False
        raise
    return bool(stacks) and stacks[0]["StackStatus"] != "REVIEW_IN_PROGRESS"


def deploy(
    region: str,
    stage: str,
    bucket: str | None,
    *,
    execute: bool = True,
    session=None,
    out=print,
) -> dict[str, str]:
    """Returns the stack's outputs (empty when only a change set was made)."""
    refuse_in_ci()
    check_stage(stage)
    settings = load_region(region)
    bucket = bucket or settings.deployment_bucket
    if not bucket:
        raise SystemExit(
            f"no deployment bucket: pass BUCKET=… or set deployment_bucket in "
            f"infra/regions/{region}.json (an S3 bucket in {region} you may write to)"
        )
    built = build_dir(region, stage)
    template_path, code_path = built / "template.json", built / "deployment.zip"
    if not template_path.is_file() or not code_path.is_file():
        raise SystemExit(
            f"nothing built in {built}: run make package REGION={region} STAGE={stage}"
        )

    session = session or boto3.session.Session(region_name=region)
    s3 = session.client("s3", region_name=region)
    cloudformation = session.client("cloudformation", region_name=region)
    name = stack_name(stage)
    prefix = f"shoppable/{stage}-{region}"

    code_key = upload(s3, bucket, prefix, code_path.read_bytes(), ".zip")
    template = with_code_at(json.loads(template_path.read_text()), bucket, code_key)
    template_key = upload(s3, bucket, prefix, json.dumps(template).encode(), ".template.json")
    template_url = f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}"
    out(f"uploaded s3://{bucket}/{code_key} and the template beside it")

    creating = not stack_exists(cloudformation, name)
    change_set = f"shoppable-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
    cloudformation.create_change_set(
        StackName=name,
        ChangeSetName=change_set,
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateURL=template_url,
        Capabilities=CAPABILITIES,
        Tags=[
            {"Key": "shoppable:stage", "Value": stage},
            {"Key": "shoppable:data-residency", "Value": settings.data_residency},
        ],
    )
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig={"Delay": 5}
        )
    except WaiterError:
        described = cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set)
        reason = described.get("StatusReason", "")
        if any(text in reason for text in NO_CHANGES):
            cloudformation.delete_change_set(StackName=name, ChangeSetName=change_set)
            out(f"{name} in {region} is up to date")
            return stack_outputs(cloudformation, name)
        raise SystemExit(f"change set {change_set} failed: {reason}") from None

    described = cloudformation.describe_change_set(StackName=name, ChangeSetName=change_set)
    for change in described.get("Changes", []):
        rc = change["ResourceChange"]
        replace = " (REPLACES it)" if rc.get("Replacement") == "True" else ""
        out(f"  {rc['Action']:<7} {rc['LogicalResourceId']} {rc['ResourceType']}{replace}")
    if not execute:
        out(f"change set {change_set} on {name} is ready for review; not executed")
        return {}

    cloudformation.execute_change_set(StackName=name, ChangeSetName=change_set)
    waiter = "stack_create_complete" if creating else "stack_update_complete"
    out(f"{'creating' if creating else 'updating'} {name} in {region}…")
    cloudformation.get_waiter(waiter).wait(
        StackName=name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
    )
    if creating and stage == "prod":
        cloudformation.update_termination_protection(
            StackName=name, EnableTerminationProtection=True
        )
    outputs = stack_outputs(cloudformation, name)
    for key, value in sorted(outputs.items()):
        out(f"  {key}: {value}")
    return outputs


def stack_outputs(cloudformation, name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--region", required=True, help="one of infra/regions/*.json")
    parser.add_argument("--stage", required=True, help="e.g. dev, prod")
    parser.add_argument("--bucket", help="S3 bucket in the region for the code and template")
    parser.add_argument("--no-execute", action="store_true", help="only create the change set")
    args = parser.parse_args(argv)
    deploy(args.region, args.stage, args.bucket, execute=not args.no_execute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
