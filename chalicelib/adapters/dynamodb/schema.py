"""The main table, and the table of the platform tokens' data keys, defined once: `infra/`
deploys them and `make run` and the tests create them."""

from ...vault.schema import TableSpec

TTL_ATTRIBUTE = "ttl"
GSI1 = "gsi1"  # one merchant's objects of one kind, by creation time
GSI2 = "gsi2"  # sparse: orders awaiting payment, by when their reservation expires

MAIN_TABLE = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "gsi1pk", "AttributeType": "S"},
        {"AttributeName": "gsi1sk", "AttributeType": "S"},
        {"AttributeName": "gsi2pk", "AttributeType": "S"},
        {"AttributeName": "gsi2sk", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": GSI1,
            "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": GSI2,
            "KeySchema": [
                {"AttributeName": "gsi2pk", "KeyType": "HASH"},
                {"AttributeName": "gsi2sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        },
    ],
    "BillingMode": "PAY_PER_REQUEST",
}

# The stream feeds the outbox's consumer (adapters/dynamodb/outbox.py): new images carry the
# events, old images let a variant's stock change be compared with its threshold.
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"

KEY_ATTRIBUTES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", TTL_ATTRIBUTE})


def create_main_table(client, table_name: str) -> None:
    """Create the table and switch on TTL (boto3 DynamoDB client)."""
    client.create_table(
        TableName=table_name,
        StreamSpecification={"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
        **MAIN_TABLE,
    )
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )


# The wrapped data keys of merchants' platform tokens, one per grant (adapters/platform_tokens.py).
# Like the vault's keys table: no point-in-time recovery and out of backup plans, so that
# deleting a grant's key shreds every copy of the tokens it sealed, the main table's backups
# included; deletion protection guards it instead.
PLATFORM_TOKEN_KEYS = TableSpec(
    setting="platform_token_keys_table",
    definition={
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    },
    point_in_time_recovery=False,  # never: a restored copy would bring shredded keys back
    deletion_protection=True,
)


def create_platform_token_keys_table(client, table_name: str) -> None:
    client.create_table(
        TableName=table_name,
        DeletionProtectionEnabled=PLATFORM_TOKEN_KEYS.deletion_protection,
        **PLATFORM_TOKEN_KEYS.definition,
    )
    client.get_waiter("table_exists").wait(TableName=table_name)
