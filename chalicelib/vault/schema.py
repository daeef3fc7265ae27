"""The vault's two tables, defined once: `infra/` deploys them; `make run` and tests create them.

- The data table holds each customer's sealed fields, the blind index and the audit trail.
  It is only ciphertext and ids, so point-in-time recovery and backups are on.
- The keys table holds each customer's data key, wrapped by the vault's KMS key. Erasure
  deletes that item, which makes every copy of the customer's ciphertext unreadable, backups
  of the data table included. That only holds if no copy of the keys table survives, so it
  has no point-in-time recovery and must stay out of backup plans; deletion protection guards
  it instead. The trade-off: losing this table loses every customer's data, on purpose.
"""

from dataclasses import dataclass

_PK_SK = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

KEY_ATTRIBUTES = frozenset({"pk", "sk"})


@dataclass(frozen=True)
class TableSpec:
    setting: str  # the Settings field holding the table's name
    definition: dict
    point_in_time_recovery: bool
    deletion_protection: bool


VAULT_DATA_TABLE = TableSpec(
    setting="vault_table",
    definition=_PK_SK,
    point_in_time_recovery=True,
    deletion_protection=True,
)
VAULT_KEYS_TABLE = TableSpec(
    setting="vault_keys_table",
    definition=_PK_SK,
    point_in_time_recovery=False,  # never: a restored copy would bring erased keys back
    deletion_protection=True,
)
VAULT_TABLES = (VAULT_DATA_TABLE, VAULT_KEYS_TABLE)


def create_vault_tables(client, settings) -> None:
    """Create both tables as specified (boto3 DynamoDB client)."""
    for spec in VAULT_TABLES:
        name = getattr(settings, spec.setting)
        client.create_table(
            TableName=name,
            DeletionProtectionEnabled=spec.deletion_protection,
            **spec.definition,
        )
        client.get_waiter("table_exists").wait(TableName=name)
        if spec.point_in_time_recovery:
            client.update_continuous_backups(
                TableName=name,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
