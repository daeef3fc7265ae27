"""Linking a merchant's social accounts, through which platform webhooks find the merchant."""

from ..domain.connections import Connection, ConnectionCreate, Platform
from ..domain.errors import AlreadyExists
from ..domain.ids import Prefix
from ..errors import Conflict
from .social import Social


def connect_account(social: Social, merchant_id: str, request: ConnectionCreate) -> Connection:
    connection = Connection(
        id=social.clock.new_id(Prefix.CONNECTION),
        merchant_id=merchant_id,
        platform=request.platform,
        account_id=request.account_id,
        created_at=social.clock.now(),
    )
    try:
        social.connections.add(connection)
    except AlreadyExists as error:
        raise Conflict(
            f"The {request.platform} account '{request.account_id}' is already connected.",
            code="connection_exists",
            param="account_id",
        ) from error
    return connection


def list_connections(
    social: Social, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[Connection], str | None]:
    return social.connections.page(merchant_id, limit, cursor)


def account_of(social: Social, merchant_id: str, platform: Platform) -> str | None:
    """The merchant's account on `platform`, None if it has connected none."""
    cursor = None
    while True:
        found, cursor = social.connections.page(merchant_id, 100, cursor)
        for connection in found:
            if connection.platform == platform:
                return connection.account_id
        if cursor is None:
            return None
