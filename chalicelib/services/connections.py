"""Linking a merchant's social accounts, through which platform webhooks find the merchant."""

from ..adapters.dynamodb.table import ConditionFailed
from ..domain.connections import Connection, ConnectionCreate
from ..domain.ids import Prefix
from ..errors import Conflict


def connect_account(connections, clock, merchant_id: str, request: ConnectionCreate) -> Connection:
    connection = Connection(
        id=clock.new_id(Prefix.CONNECTION),
        merchant_id=merchant_id,
        platform=request.platform,
        account_id=request.account_id,
        created_at=clock.now(),
    )
    try:
        connections.add(connection)
    except ConditionFailed as error:
        raise Conflict(
            f"The {request.platform} account '{request.account_id}' is already connected.",
            code="connection_exists",
            param="account_id",
        ) from error
    return connection


def list_connections(connections, merchant_id: str, limit: int, cursor: str | None):
    return connections.page(merchant_id, limit, cursor)
