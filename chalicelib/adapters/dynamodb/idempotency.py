"""Powertools' idempotency records, kept in the main table under our own key layout.

Powertools puts every record in one partition when the table has a sort key; keying each
record by its own id (`IDEM#<hash>`) spreads them, as DynamoDB wants.
"""

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from . import keys
from .schema import TTL_ATTRIBUTE


class IdempotencyStore(DynamoDBPersistenceLayer):
    def __init__(self, table_name: str, client):
        super().__init__(
            table_name=table_name,
            key_attr="pk",
            sort_key_attr="sk",
            expiry_attr=TTL_ATTRIBUTE,
            boto3_client=client,
        )

    def _get_key(self, idempotency_key: str) -> dict:
        key = keys.idempotency(idempotency_key)
        return {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}
