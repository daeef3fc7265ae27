"""Connections and the grants behind them, in the main table.

- `CONN#<platform>#<account>`: the connection, keyed by its account so that a webhook finds
  its merchant in one read, and listed in its merchant's GSI1 partition;
- `CONNID#<id>`: from a connection's id to its account;
- `GRANT#<id>`: one authorization: who made it, its scopes, status and expiries, the accounts
  it covers (a string set) and its sealed tokens (adapters/platform_tokens.py); in GSI2's
  renewal partition while it is active and expiring. Its wrapped data key is in the platform
  token keys table (`KEY#<id>`), which has no backups: deleting it shreds the tokens, every
  copy of the main table included;
- `GRANTUSER#<source>#<user>` / `GRANT#<id>`: from a platform user to the grants they made;
- `OAUTHSTATE#<nonce>`: a used authorization state (single use), gone by TTL;
- `DELETION#<code>`: a data deletion request's outcome, for its public status page.

Connecting writes the grant, its data key and all its accounts in one transaction, each
account on the condition that it is new or already this merchant's through the grant it
replaces: an account of another merchant refuses the whole authorization and nothing is
written. Removing a grant deletes its connections, pointers, sealed tokens and data key
together.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ...domain.connections import (
    AccountAccess,
    Connection,
    ConnectionStatus,
    DataDeletion,
    Grant,
    Tokens,
    access_for,
    account_key,
)
from ...domain.errors import AlreadyExists, ConcurrentUpdate, PlatformError
from ...domain.outbound import Event
from ..platform_tokens import TokenSealer
from . import keys
from .outbox import add_event
from .table import ConditionFailed, MainTable, model_item, without_keys

CONNECTIONS = "CONNECTIONS"
STATE_KEPT_SECONDS = 24 * 3600  # a used state is remembered well past its expiry


def _bytes(value: Any) -> bytes:
    return bytes(getattr(value, "value", value))


def _connection_item(connection: Connection) -> dict[str, Any]:
    listing = keys.listing_entry(
        connection.merchant_id, CONNECTIONS, connection.created_at.isoformat(), connection.id
    )
    return model_item(connection, {**keys.connection(connection.platform, connection.account_id),
                                   **listing})  # fmt: skip


def _account(key: str) -> dict:
    platform, _, account_id = key.partition("#")
    return keys.connection(platform, account_id)


def _renewal(grant: Grant) -> dict[str, str]:
    if grant.renew_at is None or grant.status != ConnectionStatus.ACTIVE:
        return {}
    return keys.token_renewal(grant.renew_at.isoformat(), grant.id)


class ConnectionRepository:
    def __init__(self, table: MainTable, key_table: MainTable, sealer: Callable[[], TokenSealer]):
        self.table = table
        self.key_table = key_table  # the grants' wrapped data keys, without backups
        self._sealer = sealer  # built on first use: it needs KMS

    def _key_item(self, grant: Grant, wrapped: bytes) -> dict[str, Any]:
        return {**keys.platform_token_key(grant.id), "wrapped_key": wrapped,
                "merchant_id": grant.merchant_id}  # fmt: skip

    # Connections

    def for_account(self, platform: str, account_id: str) -> Connection | None:
        item = self.table.get(keys.connection(platform, account_id))
        return Connection.model_validate(without_keys(item)) if item else None

    def get(self, connection_id: str) -> Connection | None:
        pointer = self.table.get(keys.connection_id(connection_id))
        if pointer is None:
            return None
        found = self.for_account(pointer["platform"], pointer["account_id"])
        return found if found is not None and found.id == connection_id else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Connection], str | None]:
        gsi1pk = keys.merchant_listing(merchant_id, CONNECTIONS)
        page = self.table.query_listing(gsi1pk, limit, cursor)
        return [Connection.model_validate(without_keys(i)) for i in page.items], page.next_cursor

    def of_grant(self, grant: Grant) -> list[Connection]:
        items = self.table.get_many([_account(a) for a in grant.accounts])
        found = [Connection.model_validate(without_keys(i)) for i in items]
        return [c for c in found if c.grant_id == grant.id]

    # Grants

    def _load(self, grant_id: str) -> tuple[Grant, bytes, bytes] | None:
        """The grant, its wrapped data key and its sealed tokens; None once shredded."""
        item = self.table.get(keys.grant(grant_id))
        key = self.key_table.get(keys.platform_token_key(grant_id)) if item else None
        if item is None or key is None:
            return None
        sealed = _bytes(item.pop("sealed_tokens"))
        return Grant.model_validate(without_keys(item)), _bytes(key["wrapped_key"]), sealed

    def grant(self, grant_id: str) -> Grant | None:
        loaded = self._load(grant_id)
        return loaded[0] if loaded else None

    def grants_of_user(self, source: str, user_id: str) -> list[Grant]:
        pointers = self.table.partition(keys.grants_of_user(source, user_id))
        found = [self.grant(p["grant_id"]) for p in pointers]
        return [g for g in found if g is not None]

    def due_for_renewal(self, now: datetime, limit: int = 100) -> list[str]:
        due = self.table.due(keys.TOKEN_RENEWAL, now.isoformat() + "\uffff", limit)
        return [item["pk"].removeprefix("GRANT#") for item in due]

    def tokens(self, grant: Grant) -> Tokens:
        loaded = self._load(grant.id)
        if loaded is None:
            raise PlatformError(grant.source, 0, "the connection was removed", retryable=False)
        _, wrapped, sealed = loaded
        return self._sealer().open(grant, wrapped, sealed)

    def access_for(self, connection: Connection) -> AccountAccess:
        """The token acting for the connection's account, opened now; a refusal when the
        connection cannot be used (removed, or waiting for the merchant to authorize again)."""
        loaded = self._load(connection.grant_id)
        grant = loaded[0] if loaded else None
        if grant is None or grant.merchant_id != connection.merchant_id:
            message = f"the {connection.platform} account {connection.account_id} is not connected"
            raise PlatformError(str(connection.platform), 0, message, retryable=False)
        if grant.status != ConnectionStatus.ACTIVE or connection.status != ConnectionStatus.ACTIVE:
            message = (
                f"the {connection.platform} connection needs to be authorized again"
                f" ({grant.reason or connection.reason or 'refused by the platform'})"
            )
            raise PlatformError(str(connection.platform), 0, message, retryable=False)
        assert loaded is not None
        return access_for(connection, self._sealer().open(grant, loaded[1], loaded[2]))

    # Writing

    def _grant_item(self, grant: Grant, sealed: bytes) -> dict[str, Any]:
        item = model_item(grant, {**keys.grant(grant.id), **_renewal(grant)},
                          sealed_tokens=sealed)  # fmt: skip
        item.pop("accounts", None)
        if grant.accounts:
            item["accounts"] = set(grant.accounts)  # a string set: DELETE removes one
        return item

    def connect(
        self,
        grant: Grant,
        tokens: Tokens,
        connections: list[Connection],
        replacing: list[Connection],
    ) -> None:
        """Write the grant and its connections, all or nothing. `replacing`: the merchant's
        connections of the same accounts made through earlier grants (re-authorization),
        each replaced only if unchanged meanwhile. AlreadyExists(account id) when an account
        turned out to be another merchant's."""
        wrapped, sealed = self._sealer().seal(grant, tokens)
        tx = self.table.transaction()
        tx.put(self._grant_item(grant, sealed), "attribute_not_exists(pk)")
        tx.put(self._key_item(grant, wrapped), "attribute_not_exists(pk)",
               table=self.key_table.name)  # fmt: skip
        tx.put({**keys.grant_of_user(grant.source, grant.user_id, grant.id),
                "grant_id": grant.id, "merchant_id": grant.merchant_id})  # fmt: skip
        earlier = {account_key(c.platform, c.account_id): c for c in replacing}
        claims: dict[int, str] = {}  # transaction position -> the new account it claims
        for connection in connections:
            old = earlier.get(account_key(connection.platform, connection.account_id))
            if old is None:
                claims[len(tx.items)] = connection.account_id
                tx.put(_connection_item(connection), "attribute_not_exists(pk)")
                pointer = {"platform": connection.platform, "account_id": connection.account_id}
                tx.put({**keys.connection_id(connection.id), **pointer}, "attribute_not_exists(pk)")
            else:
                tx.put(_connection_item(connection), "merchant_id = :m AND grant_id = :g",
                       values={":m": old.merchant_id, ":g": old.grant_id})  # fmt: skip
        for old_grant in sorted({c.grant_id for c in replacing} - {grant.id}):
            gone = {account_key(c.platform, c.account_id) for c in replacing
                    if c.grant_id == old_grant}  # fmt: skip
            tx.update(keys.grant(old_grant), "DELETE accounts :gone", "attribute_exists(pk)",
                      values={":gone": gone})  # fmt: skip
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            taken = [claims[i] for i in failed.failed_indexes() if i in claims]
            if taken:
                raise AlreadyExists(taken[0]) from failed
            raise ConcurrentUpdate("a connection changed meanwhile") from failed

    def claim_renewal(self, grant: Grant, hold_until: datetime) -> Grant | None:
        """Take the grant for one renewal: its version moves on and its place in the renewal
        partition moves to `hold_until`, so that another run leaves it alone meanwhile (and
        retries it then, if this one dies). None if it changed or is no longer active."""
        claimed = grant.model_copy(update={"version": grant.version + 1, "renew_at": hold_until})
        try:
            self.table.update(
                keys.grant(grant.id),
                "SET version = :next, renew_at = :hold, gsi2pk = :p, gsi2sk = :sk",
                "version = :v AND #status = :active",
                names={"#status": "status"},
                values={":next": claimed.version, ":hold": hold_until.isoformat(),
                        ":v": grant.version, ":active": str(ConnectionStatus.ACTIVE),
                        ":p": keys.TOKEN_RENEWAL,
                        ":sk": keys.token_renewal(hold_until.isoformat(), grant.id)["gsi2sk"]},
            )  # fmt: skip
        except ConditionFailed:
            return None
        return claimed

    def renewed(self, grant: Grant, tokens: Tokens, renew_at: datetime | None, now: datetime):
        """The renewed tokens, sealed under a new data key; ConcurrentUpdate if the grant
        changed since it was claimed."""
        after = grant.model_copy(update={
            "version": grant.version + 1, "renew_at": renew_at, "updated_at": now,
            "access_expires_at": tokens.access_expires_at,
            "refresh_expires_at": tokens.refresh_expires_at,
        })  # fmt: skip
        wrapped, sealed = self._sealer().seal(after, tokens)
        values: dict[str, Any] = {
            ":v": grant.version, ":next": after.version, ":s": sealed,
            ":now": now.isoformat(), ":a": _iso(after.access_expires_at),
            ":r": _iso(after.refresh_expires_at),
        }  # fmt: skip
        update = (
            "SET version = :next, sealed_tokens = :s, updated_at = :now, "
            "access_expires_at = :a, refresh_expires_at = :r, renew_at = :at"
        )
        values[":at"] = _iso(renew_at)
        if renew_at is None:
            update += " REMOVE gsi2pk, gsi2sk"
        else:
            update += ", gsi2pk = :p, gsi2sk = :sk"
            values[":p"] = keys.TOKEN_RENEWAL
            values[":sk"] = keys.token_renewal(renew_at.isoformat(), grant.id)["gsi2sk"]
        tx = self.table.transaction()
        tx.update(keys.grant(grant.id), update, "version = :v", values=values)
        tx.put(self._key_item(after, wrapped), table=self.key_table.name)  # the old one goes
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise ConcurrentUpdate(grant.id) from failed
        self._sealer().forget(grant.id)  # the old data key is of no use any more

    def needs_reauth(
        self, grant: Grant, reason: str, now: datetime, events: list[Event]
    ) -> list[Connection]:
        """Mark the grant and its connections; they are not used until the merchant
        authorizes again. `events` (one per connection: `connection.needs_reauth`) go into the
        outbox in the same transaction. Returns the connections marked; [] (and nothing
        written, no event) if the grant or one of its connections changed meanwhile."""
        tx = self.table.transaction()
        tx.update(
            keys.grant(grant.id),
            "SET #status = :n, reason = :r, updated_at = :now, version = :next "
            "REMOVE gsi2pk, gsi2sk",
            "version = :v",
            names={"#status": "status"},
            values={":n": str(ConnectionStatus.NEEDS_REAUTH), ":r": reason,
                    ":now": now.isoformat(), ":next": grant.version + 1, ":v": grant.version},
        )  # fmt: skip
        for account in grant.accounts:
            tx.update(
                _account(account),
                "SET #status = :n, reason = :r, updated_at = :now",
                "grant_id = :g",
                names={"#status": "status"},
                values={":n": str(ConnectionStatus.NEEDS_REAUTH), ":r": reason,
                        ":now": now.isoformat(), ":g": grant.id},
            )  # fmt: skip
        for event in events:
            add_event(tx, event)
        try:
            self.table.commit(tx)
        except ConditionFailed:
            return []
        return self.of_grant(grant)

    def remove_connection(self, connection: Connection) -> Grant | None:
        """Delete the connection (webhooks for its account are dropped from now on) and take
        it off its grant; returns the grant as it is now (None if it is gone)."""
        tx = self.table.transaction()
        tx.delete(keys.connection(connection.platform, connection.account_id),
                  "merchant_id = :m AND grant_id = :g",
                  values={":m": connection.merchant_id, ":g": connection.grant_id})  # fmt: skip
        tx.delete(keys.connection_id(connection.id))
        tx.update(
            keys.grant(connection.grant_id),
            "DELETE accounts :gone",
            "attribute_exists(pk)",
            values={":gone": {account_key(connection.platform, connection.account_id)}},
        )
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise ConcurrentUpdate(connection.id) from failed
        return self.grant(connection.grant_id)

    def remove_grant(self, grant: Grant) -> list[Connection]:
        """Shred the grant: its sealed tokens and wrapped key, the pointer to it, and every
        connection still made through it. Returns the connections removed."""
        connections = self.of_grant(grant)
        tx = self.table.transaction()
        for connection in connections:
            tx.delete(keys.connection(connection.platform, connection.account_id),
                      "grant_id = :g", values={":g": grant.id})  # fmt: skip
            tx.delete(keys.connection_id(connection.id))
        tx.delete(keys.grant(grant.id))
        tx.delete(keys.platform_token_key(grant.id), table=self.key_table.name)
        tx.delete(keys.grant_of_user(grant.source, grant.user_id, grant.id))
        try:
            self.table.commit(tx)
        except ConditionFailed as failed:
            raise ConcurrentUpdate(grant.id) from failed
        self._sealer().forget(grant.id)
        return connections

    # Authorization states and data deletion requests

    def use_state(self, nonce: str, expires_at: int) -> bool:
        """Record the state's use; False if it was used before."""
        item = {**keys.oauth_state(nonce), "ttl": expires_at + STATE_KEPT_SECONDS}
        try:
            self.table.put(item, "attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def record_deletion(self, deletion: DataDeletion) -> None:
        self.table.put(model_item(deletion, keys.data_deletion(deletion.confirmation_code)))

    def deletion(self, confirmation_code: str) -> DataDeletion | None:
        item = self.table.get(keys.data_deletion(confirmation_code), consistent=False)
        return DataDeletion.model_validate(without_keys(item)) if item else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
