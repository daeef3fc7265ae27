"""Every AWS resource the code uses, defined once.

`infra/` turns these definitions into CloudFormation; `make run` and the tests create them
in the emulator with `provision`.
"""

from dataclasses import dataclass

from .adapters.dynamodb.schema import create_main_table, create_platform_token_keys_table
from .adapters.kms import ensure_key
from .vault.schema import create_vault_tables


@dataclass(frozen=True)
class QueueSpec:
    """A work queue and its dead-letter queue."""

    setting: str  # the Settings field holding the queue's name
    visibility_timeout: int = 60
    max_receive_count: int = 5
    batch_size: int = 10


QUEUES = (
    QueueSpec(setting="ingest_queue"),
    # Attempts to deliver events to merchants' endpoints: one message per attempt, up to 15 s
    # each, so a few per batch; the function's timeout (.chalice/config.json) stays below the
    # visibility timeout.
    QueueSpec(setting="webhook_queue", visibility_timeout=120, batch_size=4),
)


def provision(rt) -> dict[str, str]:
    """Create the tables, queues, the vault key and the platform-tokens key in the (emulated)
    account.

    Returns queue name -> URL.
    """
    create_main_table(rt.dynamodb, rt.settings.main_table)
    create_platform_token_keys_table(rt.dynamodb, rt.settings.platform_token_keys_table)
    create_vault_tables(rt.dynamodb, rt.settings)
    if rt.settings.vault_key_id.startswith("alias/"):
        ensure_key(rt.kms, rt.settings.vault_key_id, "Shoppable vault: wraps customer data keys")
    if rt.settings.platform_tokens_key_id.startswith("alias/"):
        ensure_key(
            rt.kms,
            rt.settings.platform_tokens_key_id,
            "Shoppable: wraps the data keys of merchants' platform tokens",
        )
    if rt.settings.webhook_key_id.startswith("alias/"):
        ensure_key(rt.kms, rt.settings.webhook_key_id, "Shoppable: webhook signing secrets")
    urls = {}
    for spec in QUEUES:
        name = getattr(rt.settings, spec.setting)
        dlq_url = rt.sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
        dlq_arn = rt.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = (
            f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{spec.max_receive_count}"}}'
        )
        urls[name] = rt.sqs.create_queue(
            QueueName=name,
            Attributes={
                "VisibilityTimeout": str(spec.visibility_timeout),
                "RedrivePolicy": redrive,
            },
        )["QueueUrl"]
        urls[f"{name}-dlq"] = dlq_url
    return urls
