"""Who may do what: the two roles of the stack (pure: dicts out).

Chalice runs every HTTP route, consumer and schedule under one role (`DefaultRole`), so a
boundary inside the code would let any route decrypt customer data (DESIGN §5). The vault is
therefore its own function with its own role:

- the app role (chalice's `DefaultRole`, its statements replaced), the API function's: its log
  group, the main table and its indexes, the platform token keys table, the work queues, the
  stack key through those services, the Stripe, platform and OAuth state secrets, the API's
  own keys (caller assertions, request digests), data keys under the platform-tokens key (only
  with an encryption context naming a grant), and `lambda:InvokeFunction` on the vault
  function. Nothing of the vault's tables, key or index key.
- `WorkerRole`, the queue consumers' and schedules': the same, but the workers' caller
  assertion key instead of the API's keys (and no OAuth state secret: only the API's callback
  reads it). The vault lets workers identify and describe only, and tells them apart by the
  key that signed the assertion, so the roles must differ.
- `VaultRole`, the vault function's only: its log group, and in `VaultAccess` (a separate
  policy, because the vault key's policy names the role and the role's grants name the key)
  the two vault tables, data keys under the vault key only with an encryption context naming
  the customer, the vault key through DynamoDB and Secrets Manager, the index key secret and
  the two caller-assertion keys (to verify, encrypted with the stack key), and updates of
  customers' outbox items in the main table (`customer.erased`).

The actions are those the adapters call; a DynamoDB transaction is authorised by its items'.
"""

from .resources import (
    STACK_KEY,
    TOKENS_KEY,
    VAULT_KEY,
    arn,
    context_required,
    log_group_id,
    ref,
    service,
    sub,
)

APP_ROLE = "DefaultRole"  # chalice's
WORKER_ROLE = "WorkerRole"
VAULT_ROLE = "VaultRole"
VAULT_ACCESS = "VaultAccess"

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
# routes and consumers send by queue name.
QUEUE_ACTIONS = [
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
KEY_THROUGH_SERVICES = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"]


def statement(sid: str, actions: list[str], resources: list, condition: dict | None = None):
    found = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        found["Condition"] = condition
    return found


def policy(name: str, statements: list[dict]) -> dict:
    return {
        "PolicyName": name,
        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
    }


def logs(function_ids: list[str]) -> dict:
    return statement("Logs", LOG_ACTIONS, [arn(log_group_id(f)) for f in sorted(function_ids)])


STREAM_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]


def key_through(sid: str, key: str, services: list[str]) -> dict:
    """Use of `key` only as these services' encryption at rest, never directly."""
    return statement(
        sid,
        KEY_THROUGH_SERVICES,
        [arn(key)],
        {"StringEquals": {"kms:ViaService": [service(s) for s in services]}},
    )


def table_resources(table_id: str, indexes: bool) -> list:
    found = [arn(table_id)]
    if indexes:
        found.append(sub(f"${{{table_id}.Arn}}/index/*"))
    return found


def app_policy(
    *,
    function_ids: list[str],
    table: str,
    token_keys_table: str,
    queues: list[str],
    secrets: list[str],
    vault_function: str,
    context_keys: list[str],
    outbox_dlq: str | None = None,
) -> dict:
    return policy(
        "ShoppableApp",
        [
            logs(function_ids),
            statement("MainTable", TABLE_ACTIONS, table_resources(table, indexes=True)),
            statement(
                "PlatformTokenKeysTable",
                TABLE_ACTIONS,
                table_resources(token_keys_table, indexes=False),
            ),
            statement("WorkQueues", QUEUE_ACTIONS, [arn(q) for q in queues]),
            # Queues, table and secrets are encrypted with the stack key; the functions'
            # environment too.
            key_through(
                "StackKeyThroughServices",
                STACK_KEY,
                ["dynamodb", "lambda", "secretsmanager", "sqs"],
            ),
            statement("AppSecrets", ["secretsmanager:GetSecretValue"], [ref(s) for s in secrets]),
            # Merchants' platform tokens: a data key per grant, bound to it by the context.
            statement(
                "PlatformTokenKeys",
                ["kms:Decrypt", "kms:GenerateDataKey"],
                [arn(TOKENS_KEY)],
                context_required(context_keys),
            ),
            statement("InvokeVault", ["lambda:InvokeFunction"], [arn(vault_function)]),
            # The outbox: the main table's stream, read by its consumer.
            statement(
                "OutboxStream",
                STREAM_ACTIONS,
                [{"Fn::GetAtt": [table, "StreamArn"]}],
            ),
            # Webhook signing secrets: encrypted directly under the stack key, only with an
            # encryption context naming the endpoint (adapters/kms.py SealedSecrets).
            statement(
                "WebhookSecrets",
                ["kms:Encrypt", "kms:Decrypt"],
                [arn(STACK_KEY)],
                {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": ["webhook_endpoint"]}},
            ),
            *(
                [statement("OutboxFailures", ["sqs:SendMessage"], [arn(outbox_dlq)])]
                if outbox_dlq
                else []
            ),
        ],
    )


def _is_chalice_default(item: dict) -> bool:
    """Chalice's generated logs-anywhere, SQS-on-anything and streams-on-anything statements,
    which ours replace (`OutboxStream` scopes the stream actions to the main table's)."""
    actions = item.get("Action", [])
    actions = [actions] if isinstance(actions, str) else actions
    anywhere = item.get("Resource") in ("*", "arn:*:logs:*:*:*")
    return anywhere and all(a.startswith(("logs:", "sqs:")) or a in STREAM_ACTIONS for a in actions)


def scope_app_role(role: dict, app_policy_document: dict) -> None:
    """Replace chalice's statements with ours; refuse any other grant chalice adds on `*`."""
    for existing in role["Properties"].get("Policies", []):
        for item in existing["PolicyDocument"]["Statement"]:
            if not _is_chalice_default(item):
                raise ValueError(
                    f"chalice's role grants {item.get('Action')} on {item.get('Resource')}: "
                    "scope it in infra/access.py"
                )
    role["Properties"]["Policies"] = [app_policy_document]


def lambda_role(policies: list[dict]) -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": policies,
        },
    }


def vault_role(function_id: str) -> dict:
    return lambda_role(
        [
            policy(
                "ShoppableVaultFunction",
                [
                    logs([function_id]),
                    # its environment; the caller-assertion keys' secrets
                    key_through("StackKeyThroughServices", STACK_KEY, ["lambda", "secretsmanager"]),
                ],
            )
        ]
    )


def worker_role(app_policy_document: dict) -> dict:
    return lambda_role([app_policy_document])


def vault_access(
    *,
    tables: list[str],
    secrets: list[str],
    context_keys: list[str],
    outbox_table: str | None = None,
) -> dict:
    outbox = (
        [
            # `customer.erased` goes into the main table's outbox in the erasure's own
            # transaction: only outbox items of customers (`OUTBOX#cus_…`), only updates.
            statement(
                "CustomerErasedOutbox",
                ["dynamodb:UpdateItem"],
                [arn(outbox_table)],
                {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["OUTBOX#cus_*"]}},
            ),
            key_through("StackKeyThroughDynamoDB", STACK_KEY, ["dynamodb"]),
        ]
        if outbox_table
        else []
    )
    document = policy(
        "ShoppableVault",
        [
            *outbox,
            statement(
                "VaultTables",
                TABLE_ACTIONS,
                [r for t in sorted(tables) for r in table_resources(t, indexes=False)],
            ),
            statement(
                "CustomerDataKeys",
                ["kms:Decrypt", "kms:GenerateDataKey"],
                [arn(VAULT_KEY)],
                context_required(context_keys),
            ),
            key_through("VaultKeyThroughServices", VAULT_KEY, ["dynamodb", "secretsmanager"]),
            statement("VaultSecrets", ["secretsmanager:GetSecretValue"], [ref(s) for s in secrets]),
        ],
    )
    return {"Type": "AWS::IAM::Policy", "Properties": {**document, "Roles": [ref(VAULT_ROLE)]}}
