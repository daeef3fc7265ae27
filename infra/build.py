"""Build one region's stack: `python -m infra.build --region eu-west-1 --stage dev`.

Writes `infra/build/<stage>-<region>/template.json` (CloudFormation with the SAM transform) and
the `deployment.zip` it refers to; `make deploy` (infra/deploy.py) uploads both.

`chalice package` knows what `app.py` declares: the functions, the API, the event sources and
one role. It knows nothing of the tables, queues, keys and secrets the code uses. Those are
defined once in `chalicelib` (`MAIN_TABLE`, `VAULT_TABLES`, `QUEUES`, and the marks on
`Settings` fields), the same definitions `make run` and the tests create in the emulator, and
`merge` adds them to chalice's template (infra/resources.py, infra/access.py):

1. keys, tables, queues with dead-letter queues, secrets without values, log groups, an
   alarm topic and alarms (dead letters, API 5xx), all tagged with the region's residency;
2. the functions' environment: each `SHOPPABLE_<FIELD>` a resource-naming field reads, set to
   a reference to that resource, and `SHOPPABLE_SECRET_ARNS` for the secrets a function may
   read (chalicelib/adapters/secrets.py): the API's, the workers' (queue consumers and
   schedules) or the vault's, by each secret's `readers`. The vault function gets the vault's
   settings, the others everything else: every marked field must reach one of them or the
   build fails;
3. every SQS event source: the queue by reference, the spec's batch size, and
   `ReportBatchItemFailures`, which chalice cannot ask for (DESIGN §7);
4. the vault function gets its own role, and so do the workers (`WorkerRole`: they may not
   read the API's caller-assertion key, so a consumer cannot ask the vault for more than it
   does); chalice's role, left to the API's function, is scoped to what it uses;
5. the functions' environment encrypted with the stack key, their logs in log groups with the
   region's retention, and the API named after the stack, traced and throttled (public routes
   tighter than the rest), behind a WAF web ACL with per-address rate-based rules on the
   public routes (the region's `waf` limits);
6. in prod, deletion protection on the main table, and every resource that holds data kept
   when the stack is deleted or the resource replaced.

Checkov findings that do not apply are suppressed in the template itself (`Metadata.checkov`),
each with its reason. `merge` is pure (template in, template out) so the tests can check it on
chalice's output; `package` is the only code that runs chalice.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from copy import deepcopy
from pathlib import Path

from chalicelib.adapters.dynamodb.schema import PLATFORM_TOKEN_KEYS
from chalicelib.adapters.secrets import SECRET_ARNS_VARIABLE
from chalicelib.config import Settings
from chalicelib.errors import (
    PayloadTooLarge,
    RateLimited,
    ServiceUnavailable,
    ShoppableError,
    route_missing,
)
from chalicelib.resources import QUEUES
from chalicelib.vault.keyring import key_context
from chalicelib.vault.schema import VAULT_TABLES

from .access import (
    APP_ROLE,
    VAULT_ACCESS,
    VAULT_ROLE,
    WORKER_ROLE,
    app_policy,
    scope_app_role,
    vault_access,
    vault_role,
    worker_role,
)
from .regions import Region, load_region
from .resources import (
    ALARM_TOPIC,
    MAIN_TABLE_SETTING,
    OUTBOX_DLQ,
    RESIDENCY_TAG,
    SECRETS,
    STACK_KEY,
    TOKENS_KEY,
    VAULT,
    VAULT_KEY,
    WEB_ACL,
    WEB_ACL_ASSOCIATION,
    WORKER,
    alarm_topic,
    api_errors_alarm,
    arn,
    env_name,
    keys,
    log_group,
    log_group_id,
    logical_id,
    marked,
    outbox_failures,
    queue_id,
    queues,
    ref,
    secrets,
    secrets_read_by,
    sub,
    tables,
    web_acl,
    web_acl_association,
)
from .resources import API as API_READER

INFRA = Path(__file__).resolve().parent
ROOT = INFRA.parent
BUILD = INFRA / "build"

FUNCTION = "AWS::Serverless::Function"
VAULT_FUNCTION = "Vault"  # chalicelib/routes/vault.py: @blueprint.lambda_function(name="vault")
API_FUNCTION = "APIHandler"
API = "RestAPI"
API_ERRORS_ALARM = "ApiServerErrorsAlarm"
# What a prod stack keeps when it is deleted or a resource is replaced.
HOLDS_DATA = ("AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::SecretsManager::Secret")


def skip(check: str, reason: str) -> dict:
    return {"id": check, "comment": reason}


NO_VPC = skip(
    "CKV_AWS_117",
    "Nothing private to reach: DynamoDB, SQS, KMS and Secrets Manager are reached through "
    "IAM-authorised endpoints, Stripe and the platforms over the internet. A VPC would add NAT "
    "gateways and endpoints without narrowing access; IAM and the key policies do that.",
)
NO_RESERVED_CONCURRENCY = skip(
    "CKV_AWS_115",
    "Load is bounded upstream (API Gateway throttling from infra/regions/, the event source's "
    "batch size); reserved concurrency would carve these functions out of the regional pool "
    "other stacks share, and fails on new accounts' low limits.",
)
FAILURES_KEPT = {
    "vault": "Invoked synchronously (RequestResponse) by the other functions, which get the "
    "error; a Lambda dead-letter queue only catches asynchronous invocations.",
    "api": "Invoked synchronously by API Gateway: a failure is a 5xx to its caller and counts "
    "towards the 5xx alarm; a Lambda dead-letter queue only catches asynchronous invocations.",
    "sqs": "Invoked by an SQS event source mapping: failed messages go to the queue's own "
    "dead-letter queue, which has an alarm; a Lambda dead-letter queue would never be used.",
    "schedule": "Runs every minute: a failed run is repeated by the next, which finds the same "
    "work (e.g. the same expired reservations); there is no event worth keeping.",
    "stream": "Invoked by the main table's stream mapping, whose on-failure destination is "
    "the outbox dead-letter queue (with an alarm); a Lambda dead-letter queue would never be "
    "used.",
}
# The outbox's stream mapping: records of one shard in order; a failed record is retried (and
# everything after it waits) until it succeeds or is older than the stream keeps (24 h), then
# it goes to the outbox dead-letter queue.
STREAM_BATCH_SIZE = 100
STREAM_MAX_RECORD_AGE_SECONDS = 86400
API_SKIPS = [
    skip(
        "CKV_AWS_76",
        "Access logs need API Gateway's account-wide CloudWatch role, which one region's stack "
        "must not own; the API function writes one JSON line per request (route, status, "
        "duration, request id) to its encrypted log group instead.",
    ),
    skip(
        "CKV_AWS_120",
        "Responses depend on the caller's API key and on live stock: a cache would show one "
        "merchant's data, or a stale availability, to another request.",
    ),
]


# Settings -> the functions' environment


def reader_of(function_id: str) -> str:
    """Whose secrets a function reads: the API's, the vault's, or the workers'."""
    if function_id == VAULT_FUNCTION:
        return VAULT
    return API_READER if function_id == API_FUNCTION else WORKER


def app_environment(stage: str, region: Region, reader: str = API_READER) -> dict:
    """What every function but the vault reads: the names are `Settings`' own."""
    env = {
        env_name("stage"): stage,
        env_name(MAIN_TABLE_SETTING): ref(logical_id(MAIN_TABLE_SETTING)),
        env_name("vault_function"): ref(VAULT_FUNCTION),
        env_name("platform_tokens_key_id"): arn(TOKENS_KEY),
        env_name(PLATFORM_TOKEN_KEYS.setting): ref(logical_id(PLATFORM_TOKEN_KEYS.setting)),
        # Webhook signing secrets are sealed under the stack key (infra/access.py grants it
        # only with the endpoint's encryption context).
        env_name("webhook_key_id"): arn(STACK_KEY),
        SECRET_ARNS_VARIABLE: _joined([ref(s) for s in secrets_read_by(reader)]),
        # Not a Settings field yet: the currency a new merchant starts with in this region.
        Settings.model_config["env_prefix"] + "DEFAULT_CURRENCY": region.default_currency,
    }
    for spec in QUEUES:
        env[env_name(spec.setting)] = {"Fn::GetAtt": [queue_id(spec), "QueueName"]}
    env.update(region_settings(region))
    return env


def vault_environment(stage: str) -> dict:
    """What the vault function reads: its tables, its key, and the secrets of its index key
    and of the keys its callers assert themselves with."""
    env = {
        env_name("stage"): stage,
        env_name("vault_key_id"): arn(VAULT_KEY),
        SECRET_ARNS_VARIABLE: _joined([ref(s) for s in secrets_read_by(VAULT)]),
    }
    for spec in VAULT_TABLES:
        env[env_name(spec.setting)] = ref(logical_id(spec.setting))
    # Only for `customer.erased` in the outbox (infra/access.py: outbox items only).
    env[env_name(MAIN_TABLE_SETTING)] = ref(logical_id(MAIN_TABLE_SETTING))
    return env


def _joined(values: list) -> dict:
    return {"Fn::Join": [",", values]}


def region_settings(region: Region) -> dict[str, str]:
    """The region file's `settings`: plain Settings fields only; resources are wired here."""
    plain = {
        env_name(name): name
        for name, field in Settings.model_fields.items()
        if not (field.json_schema_extra or {}).get("resource") and name != "stage"
    }
    if "webhook_local_urls" in region.settings:
        raise ValueError(
            f"infra/regions/{region.region}.json sets webhook_local_urls: dev only "
            "(merchants' endpoints on private addresses would let them reach inside: SSRF)"
        )
    unknown = sorted(set(region.settings) - set(plain))
    if unknown:
        raise ValueError(
            f"infra/regions/{region.region}.json sets {', '.join(unknown)}: not a plain "
            "Settings field (resources and secrets are wired by the build)"
        )
    return {name: str(value) for name, value in region.settings.items()}


def check_every_setting_is_wired(app_env: dict, vault_env: dict) -> None:
    for kind in ("table", "queue", "key", "function"):
        for name in marked(kind):
            if env_name(name) not in app_env and env_name(name) not in vault_env:
                raise ValueError(
                    f"Settings.{name} names a {kind} that no function is given: define it "
                    "in chalicelib (resources.py, a schema) and wire it in infra/build.py"
                )


# Event sources


def wire_sqs_event(function_id: str, function: dict, event: dict) -> None:
    """Point chalice's SQS event at our queue, with the spec's batch and partial failures."""
    properties = event["Properties"]
    queue = properties["Queue"]
    queue_name = queue.get("Fn::Sub", "").rsplit(":", 1)[-1] if isinstance(queue, dict) else ""
    specs = {Settings.model_fields[spec.setting].default: spec for spec in QUEUES}
    if queue_name not in specs:
        raise ValueError(
            f"{function_id} consumes {queue!r}, which is no QueueSpec in chalicelib.resources "
            f"(queues: {', '.join(specs)})"
        )
    spec = specs[queue_name]
    timeout = function["Properties"].get("Timeout", 3)
    if timeout > spec.visibility_timeout:
        raise ValueError(
            f"{function_id} runs up to {timeout}s but {spec.setting} hides a message for "
            f"{spec.visibility_timeout}s; Lambda rejects the event source mapping"
        )
    properties["Queue"] = arn(queue_id(spec))
    properties["BatchSize"] = spec.batch_size
    properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]


def wire_stream_event(function_id: str, event: dict) -> None:
    """Point chalice's DynamoDB event at the main table's stream, with partial batch failures
    (the consumer stops at a failed record, so the order per object holds), bounded retries
    and the outbox dead-letter queue."""
    properties = event["Properties"]
    properties["Stream"] = {"Fn::GetAtt": [logical_id(MAIN_TABLE_SETTING), "StreamArn"]}
    properties["StartingPosition"] = "TRIM_HORIZON"
    properties["BatchSize"] = STREAM_BATCH_SIZE
    properties["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    properties["BisectBatchOnFunctionError"] = False
    properties["MaximumRecordAgeInSeconds"] = STREAM_MAX_RECORD_AGE_SECONDS
    properties["MaximumRetryAttempts"] = -1  # until the record's age runs out
    properties["DestinationConfig"] = {"OnFailure": {"Type": "SQS", "Destination": arn(OUTBOX_DLQ)}}


def invocation(function_id: str, function: dict) -> str:
    kinds = {e["Type"] for e in function["Properties"].get("Events", {}).values()}
    if function_id == VAULT_FUNCTION:
        return "vault"
    if function_id == API_FUNCTION:
        return "api"
    if kinds == {"SQS"}:
        return "sqs"
    if kinds == {"Schedule"}:
        return "schedule"
    if kinds == {"DynamoDB"}:
        return "stream"
    raise ValueError(
        f"{function_id} is invoked by {sorted(kinds) or 'nothing chalice declares'}: decide "
        "where its failures go and say so in infra/build.py (FAILURES_KEPT)"
    )


# The API


def public_routes() -> set[tuple[str, str]]:
    """(path, method) of every route callable without a key: the routes' `public=True`."""
    import app
    from chalicelib.web import operations

    return {(op.path, op.method.upper()) for op in operations(app.app) if op.public}


def method_path(path: str) -> str:
    """API Gateway's spelling of a path in method settings: `/v1/x` -> `/~1v1~1x`."""
    return "/" + path.replace("/", "~1")


def throttle_api(api: dict, region: Region, public: set[tuple[str, str]]) -> None:
    properties = api["Properties"]
    paths = properties["DefinitionBody"]["paths"]
    # Browsers' CORS preflights come before a public call and are public too.
    routes = set(public) | {(p, "OPTIONS") for p, ops in paths.items() if "options" in ops}
    missing = sorted(r for r in routes if r[1].lower() not in paths.get(r[0], {}))
    if missing:
        raise ValueError(f"public routes missing from chalice's API: {missing}")
    everything, tight = region.api_throttle, region.public_api_throttle
    settings = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": everything.rate_limit,
            "ThrottlingBurstLimit": everything.burst_limit,
        }
    ]
    for path, method in sorted(routes):
        settings.append(
            {
                "ResourcePath": method_path(path),
                "HttpMethod": method,
                "ThrottlingRateLimit": tight.rate_limit,
                "ThrottlingBurstLimit": tight.burst_limit,
            }
        )
    properties["Name"] = sub("${AWS::StackName}")  # the 5xx alarm's ApiName
    properties["TracingEnabled"] = True
    properties["MethodSettings"] = settings
    api["Metadata"] = {"checkov": {"skip": deepcopy(API_SKIPS)}}


def answer_unknown_routes(api: dict) -> None:
    """Unknown paths and methods get the contract's bodies here as they do locally.

    API Gateway answers a request that no method matches with a gateway response,
    MISSING_AUTHENTICATION_TOKEN (403 "Missing Authentication Token"), before any function
    runs. That gateway response becomes the contract's 404 (`errors.route_missing`), so an
    unknown path never reaches a function: scanning for paths costs no invocation and meets
    the stage's throttle. API Gateway cannot tell an unknown method on a known path from an
    unknown path, so each path also gets an ANY method with its other methods' integration
    (API Gateway prefers a path's own methods to ANY): such a request reaches the function,
    which answers the contract's 405 with `Allow` (web.refuse_unknown_methods), as locally.
    Throttling, oversized requests and API Gateway's own failures answer in the contract's
    shape too; gateway responses are constant templates (no VTL), hence fixed messages.
    """
    body = api["Properties"]["DefinitionBody"]
    for path, methods in body["paths"].items():
        integrations = [m["x-amazon-apigateway-integration"] for m in methods.values()]
        if not integrations:
            raise ValueError(f"{path} has no method in chalice's API")
        methods["x-amazon-apigateway-any-method"] = {
            "produces": ["application/json"],
            "responses": {},
            "x-amazon-apigateway-integration": deepcopy(integrations[0]),
        }
    body["x-amazon-apigateway-gateway-responses"] = {
        "MISSING_AUTHENTICATION_TOKEN": gateway_response(route_missing()),
        "THROTTLED": gateway_response(RateLimited("Too many requests: slow down and retry.")),
        "REQUEST_TOO_LARGE": gateway_response(PayloadTooLarge("The request is too large.")),
        # 502, 503 or 504 as API Gateway found it, in our shape
        "DEFAULT_5XX": gateway_response(
            ServiceUnavailable("The API is unavailable: retry shortly."), keep_status=True
        ),
    }


def gateway_response(error: ShoppableError, keep_status: bool = False) -> dict:
    """The error's body as an API Gateway gateway response, with the error's status unless
    the gateway's own is kept."""
    response: dict = {"responseTemplates": {"application/json": json.dumps(error.to_body())}}
    if not keep_status:
        response["statusCode"] = str(error.status)
    return response


# The merge (pure)


def merge(
    template: dict,
    *,
    stage: str,
    region: Region,
    public: set[tuple[str, str]] | None = None,
) -> dict:
    """Chalice's SAM template plus our resources, settings and permissions (a new dict)."""
    merged = deepcopy(template)
    resources = merged["Resources"]
    functions = {k: v for k, v in resources.items() if v["Type"] == FUNCTION}
    if VAULT_FUNCTION not in functions:
        raise ValueError(f"chalice's template has no {VAULT_FUNCTION} function (app.py)")
    workers = sorted(f for f in functions if f not in (VAULT_FUNCTION, API_FUNCTION))
    context_keys = sorted(key_context("merchant", "token"))
    api_stage = resources[API]["Properties"]["StageName"]

    ours = {
        **keys(VAULT_ROLE, context_keys, region),
        **tables(stage, region),
        **queues(region),
        **outbox_failures(region),
        **secrets(region),
        ALARM_TOPIC: alarm_topic(region),
        WEB_ACL: web_acl(region),
        WEB_ACL_ASSOCIATION: web_acl_association(API),
        API_ERRORS_ALARM: api_errors_alarm(api_stage, region),
        **{log_group_id(f): log_group(f, region) for f in functions},
        VAULT_ROLE: vault_role(VAULT_FUNCTION),
        VAULT_ACCESS: vault_access(
            tables=[logical_id(spec.setting) for spec in VAULT_TABLES],
            secrets=secrets_read_by(VAULT),
            context_keys=context_keys,
            outbox_table=logical_id(MAIN_TABLE_SETTING),
        ),
        WORKER_ROLE: worker_role(
            app_policy(
                function_ids=workers,
                table=logical_id(MAIN_TABLE_SETTING),
                token_keys_table=logical_id(PLATFORM_TOKEN_KEYS.setting),
                queues=[queue_id(spec) for spec in QUEUES],
                secrets=secrets_read_by(WORKER),
                vault_function=VAULT_FUNCTION,
                context_keys=context_keys,
                outbox_dlq=OUTBOX_DLQ,
            )
        ),
    }
    clash = sorted(set(ours) & set(resources))
    if clash:
        raise ValueError(f"chalice's template already has {', '.join(clash)}")
    resources.update(ours)
    if stage == "prod":
        for resource in ours.values():
            if resource["Type"] in HOLDS_DATA:
                resource["DeletionPolicy"] = resource["UpdateReplacePolicy"] = "Retain"

    app_env, vault_env = app_environment(stage, region), vault_environment(stage)
    check_every_setting_is_wired(app_env, vault_env)
    for function_id, function in functions.items():
        properties = function["Properties"]
        is_vault = function_id == VAULT_FUNCTION
        variables = properties.setdefault("Environment", {}).setdefault("Variables", {})
        reader = reader_of(function_id)
        variables.update(vault_env if is_vault else app_environment(stage, region, reader))
        properties["KmsKeyArn"] = arn(STACK_KEY)
        properties["LoggingConfig"] = {"LogGroup": ref(log_group_id(function_id))}
        properties.setdefault("Tags", {})[RESIDENCY_TAG] = region.data_residency
        for event in properties.get("Events", {}).values():
            if event["Type"] == "SQS":
                wire_sqs_event(function_id, function, event)
            if event["Type"] == "DynamoDB":
                wire_stream_event(function_id, event)
        if properties.get("Role") != arn(APP_ROLE):
            raise ValueError(f"{function_id} has a role from outside the stack")
        if is_vault:
            properties["Role"] = arn(VAULT_ROLE)
            function["DependsOn"] = [VAULT_ACCESS]
        elif reader == WORKER:
            properties["Role"] = arn(WORKER_ROLE)
        failures = skip("CKV_AWS_116", FAILURES_KEPT[invocation(function_id, function)])
        function["Metadata"] = {
            "checkov": {"skip": [failures, deepcopy(NO_VPC), deepcopy(NO_RESERVED_CONCURRENCY)]}
        }
    scope_app_role(
        resources[APP_ROLE],
        app_policy(
            function_ids=[API_FUNCTION],
            table=logical_id(MAIN_TABLE_SETTING),
            token_keys_table=logical_id(PLATFORM_TOKEN_KEYS.setting),
            queues=[queue_id(spec) for spec in QUEUES],
            secrets=secrets_read_by(API_READER),
            vault_function=VAULT_FUNCTION,
            context_keys=context_keys,
            outbox_dlq=OUTBOX_DLQ,
        ),
    )
    throttle_api(resources[API], region, public_routes() if public is None else public)
    answer_unknown_routes(resources[API])

    merged["Description"] = f"Shoppable {stage} in {region.region} ({region.data_residency} data)"
    merged.setdefault("Outputs", {}).update(outputs())
    return merged


def outputs() -> dict:
    """What operators look up (the runbook's commands read these)."""
    found = {
        "VaultFunctionName": ref(VAULT_FUNCTION),
        "StackKeyArn": arn(STACK_KEY),
        "VaultKeyArn": arn(VAULT_KEY),
        "PlatformTokensKeyArn": arn(TOKENS_KEY),
        "AlarmTopicArn": ref(ALARM_TOPIC),
        "MainTableName": ref(logical_id(MAIN_TABLE_SETTING)),
    }
    for spec in VAULT_TABLES:
        found[f"{logical_id(spec.setting)}Name"] = ref(logical_id(spec.setting))
    found["PlatformTokenKeysTableName"] = ref(logical_id(PLATFORM_TOKEN_KEYS.setting))
    for spec in QUEUES:
        for queue in (queue_id(spec), f"{queue_id(spec)}DLQ"):
            found[f"{queue}Name"] = {"Fn::GetAtt": [queue, "QueueName"]}
    for spec in SECRETS:
        found[f"{spec.logical_id}Arn"] = ref(spec.logical_id)
    return {name: {"Value": value} for name, value in found.items()}


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


def check_stage(stage: str) -> None:
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,19}", stage):
        raise SystemExit(f"stage {stage!r}: 1 to 20 lower-case letters, digits and dashes")


def stack_name(stage: str) -> str:
    """One stack per stage in each region; the region is the API's, not part of the name."""
    return f"shoppable-{stage}"


def build_dir(region: str, stage: str) -> Path:
    return BUILD / f"{stage}-{region}"


def build(region: str, stage: str, out_dir: Path | None = None) -> Path:
    """Package and merge one region's stack; returns the template's path."""
    check_stage(stage)
    settings = load_region(region)
    out_dir = out_dir or build_dir(region, stage)
    template = merge(package(stage, region, out_dir), stage=stage, region=settings)
    path = out_dir / "template.json"
    out_dir.mkdir(parents=True, exist_ok=True)
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
