"""The vault's DynamoDB items. Every key and expression of the two vault tables is built here.

Data table (`vault_table`):
    CUS#<token>  CUSTOMER            sealed fields (`sealed_<field>`, binary), masked values,
                                     the email's blind index, how many order snapshots it has;
                                     after erasure a tombstone (token, merchant, dates,
                                     `status = erased`)
    CUS#<token>  ORDER#<order id>    the details one order was placed with, sealed with the
                                     order id bound in (no masked values: ciphertext only)
    CUS#<token>  CONSENT#<at>#<ref>  one consent given: source, order, time, text version, and
                                     the email given with it, sealed
    CUS#<token>  AUDIT#<at>#<rand>   one access: action, actor, purpose, field names
    IDX#<hmac>   EMAIL               blind index -> token (one per merchant and email)
    REFUSED#<day> <at>#<rand>        a command refused because its caller was not proven
Keys table (`vault_keys_table`):
    KEY#<token>  DATAKEY             the customer's data key, wrapped by the vault's KMS key
"""

import base64
import binascii
import secrets
from datetime import datetime
from typing import Any

from ..adapters.dynamodb.outbox import add_event
from ..adapters.dynamodb.table import (
    ConditionFailed,
    MainTable,
    Transaction,
    from_attributes,
    to_attributes,
)
from ..domain.outbound import Event
from ..errors import InvalidRequest
from .models import (
    AuditEntry,
    AuditPage,
    ConsentRecord,
    CustomerRecord,
    MaskedCustomer,
    OrderSnapshot,
)
from .policy import PERSONAL_FIELDS
from .schema import KEY_ATTRIBUTES

SEALED = "sealed_"
AUDIT = "AUDIT#"
ORDER = "ORDER#"
CONSENT = "CONSENT#"
_NAMES = {"#status": "status", "#merchant": "merchant_id"}


def customer_key(token: str) -> dict:
    return {"pk": f"CUS#{token}", "sk": "CUSTOMER"}


def index_key(email_index: str) -> dict:
    return {"pk": f"IDX#{email_index}", "sk": "EMAIL"}


def data_key_key(token: str) -> dict:
    return {"pk": f"KEY#{token}", "sk": "DATAKEY"}


def new_audit_sk(at: datetime) -> str:
    return f"{AUDIT}{at.isoformat()}#{secrets.token_hex(4)}"


def audit_key(entry: AuditEntry, sk: str | None = None) -> dict:
    return {"pk": f"CUS#{entry.token}", "sk": sk or new_audit_sk(entry.at)}


def snapshot_key(token: str, order_id: str) -> dict:
    return {"pk": f"CUS#{token}", "sk": f"{ORDER}{order_id}"}


def new_consent_sk(at: datetime, ref: str) -> str:
    return f"{CONSENT}{at.isoformat()}#{ref}"


def consent_key(token: str, sk: str) -> dict:
    return {"pk": f"CUS#{token}", "sk": sk}


def refusal_key(at: datetime) -> dict:
    return {
        "pk": f"REFUSED#{at.date().isoformat()}",
        "sk": f"{at.isoformat()}#{secrets.token_hex(4)}",
    }


class VaultStore:
    def __init__(self, client, data_table: str, keys_table: str, outbox_table: str | None = None):
        self.data = MainTable(client, data_table)
        self.keys = MainTable(client, keys_table)
        self.outbox_table = outbox_table  # the main table, for `customer.erased`

    # Reads

    def customer(self, token: str) -> CustomerRecord | None:
        item = self.data.get(customer_key(token))
        return _record(item) if item else None

    def customers(self, tokens: list[str]) -> list[CustomerRecord]:
        return [_record(i) for i in self.data.get_many([customer_key(t) for t in tokens])]

    def wrapped_key(self, token: str) -> bytes | None:
        item = self.keys.get(data_key_key(token))
        return _bytes(item["wrapped_key"]) if item else None

    def snapshot(self, token: str, order_id: str) -> OrderSnapshot | None:
        item = self.data.get(snapshot_key(token, order_id))
        return _snapshot(item) if item else None

    def snapshots(self, token: str) -> list[OrderSnapshot]:
        return [_snapshot(i) for i in self._held(token, ORDER)]

    def consents(self, token: str, latest_only: bool = False) -> list[ConsentRecord]:
        """Newest first."""
        return [_consent(i) for i in self._held(token, CONSENT, newest_first=True,
                                                 limit=1 if latest_only else None)]  # fmt: skip

    def _held(
        self, token: str, prefix: str, newest_first: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.data.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_attributes(
                {":pk": customer_key(token)["pk"], ":prefix": prefix}
            ),
            "ScanIndexForward": not newest_first,
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while True:
            if limit:
                request["Limit"] = limit
            with self.data._translated():
                response = self.data.client.query(**request)
            found += [from_attributes(i) for i in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last or (limit and len(found) >= limit):
                return found
            request["ExclusiveStartKey"] = last

    def token_for_index(self, email_index: str) -> str | None:
        item = self.data.get(index_key(email_index))
        return item["token"] if item else None

    def audit_page(self, token: str, limit: int, cursor: str | None) -> AuditPage:
        """One page of a customer's trail, newest first."""
        pk = customer_key(token)["pk"]
        request: dict[str, Any] = {
            "TableName": self.data.name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :audit)",
            "ExpressionAttributeValues": to_attributes({":pk": pk, ":audit": AUDIT}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = to_attributes({"pk": pk, "sk": _decode_cursor(cursor)})
        with self.data._translated():
            response = self.data.client.query(**request)
        entries = [_audit_entry(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        next_cursor = _encode_cursor(last["sk"]["S"]) if last else None
        return AuditPage(entries=entries, next_cursor=next_cursor)

    # Writes

    def add_customer(
        self,
        record: CustomerRecord,
        wrapped_key: bytes,
        audit: AuditEntry,
        snapshot: OrderSnapshot | None = None,
        consent: ConsentRecord | None = None,
    ) -> bool:
        """Index, record, key, audit entry (and the first order's snapshot and consent)
        together; False if the index was claimed first."""
        assert record.email_index is not None
        tx = self.data.transaction()
        tx.put(
            {**index_key(record.email_index), "token": record.token},
            "attribute_not_exists(pk)",
        )
        tx.put(_item(record), "attribute_not_exists(pk)")
        tx.put(_audit_item(audit, snapshot.audit_sk if snapshot else None))
        if snapshot is not None:
            tx.put(_snapshot_item(snapshot), "attribute_not_exists(pk)")
        if consent is not None:
            tx.put(_consent_item(consent))
        keys = self.keys.transaction()
        keys.put(
            {
                **data_key_key(record.token),
                "token": record.token,
                "merchant_id": record.merchant_id,
                "wrapped_key": wrapped_key,
                "created_at": record.created_at.isoformat(),
            },
            "attribute_not_exists(pk)",
        )
        tx.items += keys.items
        try:
            self.data.commit(tx)
        except ConditionFailed as failed:
            if 0 in failed.failed_indexes():
                return False
            raise
        return True

    def add_order(
        self,
        record: CustomerRecord,
        snapshot: OrderSnapshot,
        audit: AuditEntry,
        consent: ConsentRecord | None = None,
    ) -> str:
        """A returning customer's new order: its snapshot (and consent), the record itself
        untouched but for its count of snapshots. `written`, `exists` (this order's snapshot
        is there already: a repeat) or `gone` (erased meanwhile)."""
        tx = self.data.transaction()
        tx.update(
            customer_key(record.token),
            "ADD snapshots :one",
            "#status = :active AND #merchant = :merchant",
            names=_NAMES,
            values={":one": 1, ":active": "active", ":merchant": record.merchant_id},
        )
        tx.put(_snapshot_item(snapshot), "attribute_not_exists(pk)")
        tx.put(_audit_item(audit, snapshot.audit_sk))
        if consent is not None:
            tx.put(_consent_item(consent))
        try:
            self.data.commit(tx)
        except ConditionFailed as failed:
            return "exists" if failed.failed_indexes() == [1] else "gone"
        return "written"

    def add_consent(self, consent: ConsentRecord) -> None:
        self.data.put(_consent_item(consent))

    def forget_order(
        self, record: CustomerRecord, snapshot: OrderSnapshot, remove_customer: bool
    ) -> bool:
        """Take back what `add_order` or `add_customer` wrote for one order, the customer too
        when `remove_customer` (only if still as read: created by that order, its only
        snapshot, never changed since). False if anything moved meanwhile."""
        tx = self.data.transaction()
        tx.delete(snapshot_key(snapshot.token, snapshot.order_id), "attribute_exists(pk)")
        tx.delete({"pk": customer_key(snapshot.token)["pk"], "sk": snapshot.audit_sk})
        if snapshot.consent_sk:
            tx.delete(consent_key(snapshot.token, snapshot.consent_sk))
        if remove_customer:
            assert record.email_index is not None
            tx.delete(
                customer_key(record.token),
                "#status = :active AND snapshots = :one AND first_order_id = :order"
                " AND updated_at = :updated",
                names={"#status": "status"},
                values={":active": "active", ":one": 1, ":order": snapshot.order_id,
                        ":updated": record.updated_at.isoformat()},
            )  # fmt: skip
            tx.delete(index_key(record.email_index), "#token = :token",
                      names={"#token": "token"}, values={":token": record.token})  # fmt: skip
            _delete(tx, self.keys.name, data_key_key(record.token))
        else:
            tx.update(
                customer_key(record.token),
                "ADD snapshots :minus",
                "snapshots >= :one",
                values={":minus": -1, ":one": 1},
            )
        try:
            self.data.commit(tx)
        except ConditionFailed:
            return False
        return True

    def record_refusal(self, at: datetime, details: dict[str, Any]) -> None:
        self.data.put({**refusal_key(at), "at": at.isoformat(), **details})

    def update_customer(
        self, record: CustomerRecord, changed: list[str], audit: AuditEntry
    ) -> bool:
        """Write changed sealed fields, masked values and consent; False if it was erased."""
        values: dict[str, Any] = {
            ":masked": record.masked.model_dump() if record.masked else None,
            ":updated": record.updated_at.isoformat(),
            ":active": "active",
            ":merchant": record.merchant_id,
        }
        sets = ["masked = :masked", "updated_at = :updated"]
        for name in changed:
            sets.append(f"{SEALED}{name} = :{name}")
            values[f":{name}"] = record.sealed[name]
        tx = self.data.transaction()
        tx.update(
            customer_key(record.token),
            "SET " + ", ".join(sets),
            "#status = :active AND #merchant = :merchant",
            names=_NAMES,
            values=values,
        )
        tx.put(_audit_item(audit))
        try:
            self.data.commit(tx)
        except ConditionFailed:
            return False
        return True

    def record_access(self, audit: AuditEntry) -> None:
        self.data.put(_audit_item(audit))

    def erase_customer(
        self,
        record: CustomerRecord,
        erased_at: datetime,
        audit: AuditEntry,
        event: Event | None = None,
    ) -> bool:
        """Shred: delete the wrapped key, strip the record to a tombstone, drop the index.

        One transaction, so there is never a record without a key that still looks alive.
        False when the record was already erased.
        """
        at = erased_at.isoformat()
        removed = ", ".join(
            [f"{SEALED}{f}" for f in PERSONAL_FIELDS]
            + ["masked", "email_index", "marketing_consent_at", "first_order_id", "snapshots"]
        )
        tx = self.data.transaction()
        tx.update(
            customer_key(record.token),
            f"SET #status = :erased, erased_at = :at, updated_at = :at REMOVE {removed}",
            "#status = :active AND #merchant = :merchant",
            names=_NAMES,
            values={
                ":erased": "erased",
                ":at": at,
                ":active": "active",
                ":merchant": record.merchant_id,
            },
        )
        tx.put(_audit_item(audit))
        if record.email_index:
            _delete(tx, self.data.name, index_key(record.email_index))
        _delete(tx, self.keys.name, data_key_key(record.token))
        if event is not None and self.outbox_table:
            # `customer.erased` in the main table's outbox, in this same transaction.
            add_event(tx, event, main_table=self.outbox_table)
        try:
            self.data.commit(tx)
        except ConditionFailed:
            return False
        return True

    def remove_held(self, token: str) -> int:
        """Delete a customer's order snapshots and consent records (after their key is gone:
        ciphertext nobody can open any more, removed all the same)."""
        keys = [
            {"pk": i["pk"], "sk": i["sk"]}
            for prefix in (ORDER, CONSENT)
            for i in self._held(token, prefix)
        ]
        for start in range(0, len(keys), 25):
            pending: dict[str, Any] = {
                self.data.name: [
                    {"DeleteRequest": {"Key": to_attributes(k)}} for k in keys[start : start + 25]
                ]
            }
            while pending:
                with self.data._translated():
                    response = self.data.client.batch_write_item(RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
        return len(keys)


def _delete(tx: Transaction, table_name: str, key: dict) -> None:
    tx.items.append({"Delete": {"TableName": table_name, "Key": to_attributes(key)}})


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else bytes(value.value)


def _item(record: CustomerRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        **customer_key(record.token),
        "token": record.token,
        "merchant_id": record.merchant_id,
        "status": record.status,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "email_index": record.email_index,
        "masked": record.masked.model_dump() if record.masked else None,
        **{f"{SEALED}{name}": value for name, value in record.sealed.items()},
        "first_order_id": record.first_order_id,
        "snapshots": record.snapshots,
    }
    return {k: v for k, v in item.items() if v is not None}


def _snapshot_item(snapshot: OrderSnapshot) -> dict[str, Any]:
    item: dict[str, Any] = {
        **snapshot_key(snapshot.token, snapshot.order_id),
        "token": snapshot.token,
        "order_id": snapshot.order_id,
        "merchant_id": snapshot.merchant_id,
        "created_at": snapshot.created_at.isoformat(),
        "audit_sk": snapshot.audit_sk,
        **{f"{SEALED}{name}": value for name, value in snapshot.sealed.items()},
    }
    if snapshot.consent_sk:
        item["consent_sk"] = snapshot.consent_sk
    return item


def _snapshot(item: dict[str, Any]) -> OrderSnapshot:
    return OrderSnapshot(
        token=item["token"],
        order_id=item["order_id"],
        merchant_id=item["merchant_id"],
        created_at=datetime.fromisoformat(item["created_at"]),
        sealed={
            name.removeprefix(SEALED): _bytes(value)
            for name, value in item.items()
            if name.startswith(SEALED)
        },
        audit_sk=item["audit_sk"],
        consent_sk=item.get("consent_sk"),
    )


def _consent_item(consent: ConsentRecord) -> dict[str, Any]:
    item = {
        **consent_key(consent.token, consent.sk),
        "token": consent.token,
        "source": consent.source,
        "order_id": consent.order_id,
        "at": consent.at.isoformat(),
        "text_version": consent.text_version,
        "actor": consent.actor,
        "sealed_email": consent.sealed_email,
    }
    return {k: v for k, v in item.items() if v is not None}


def _consent(item: dict[str, Any]) -> ConsentRecord:
    return ConsentRecord(
        token=item["token"],
        sk=item["sk"],
        source=item["source"],
        order_id=item.get("order_id"),
        at=datetime.fromisoformat(item["at"]),
        text_version=item["text_version"],
        actor=item["actor"],
        sealed_email=_bytes(item["sealed_email"]),
    )


def _record(item: dict[str, Any]) -> CustomerRecord:
    def when(name: str) -> datetime | None:
        return datetime.fromisoformat(item[name]) if item.get(name) else None

    return CustomerRecord(
        token=item["token"],
        merchant_id=item["merchant_id"],
        status=item["status"],
        created_at=datetime.fromisoformat(item["created_at"]),
        updated_at=datetime.fromisoformat(item["updated_at"]),
        sealed={
            name.removeprefix(SEALED): _bytes(value)
            for name, value in item.items()
            if name.startswith(SEALED)
        },
        masked=MaskedCustomer.model_validate(item["masked"]) if item.get("masked") else None,
        email_index=item.get("email_index"),
        erased_at=when("erased_at"),
        first_order_id=item.get("first_order_id"),
        snapshots=int(item.get("snapshots", 0)),
    )


def _audit_item(entry: AuditEntry, sk: str | None = None) -> dict[str, Any]:
    return {**audit_key(entry, sk), **entry.model_dump(mode="json", exclude={"object"})}


def _audit_entry(item: dict) -> AuditEntry:
    plain = from_attributes(item)
    return AuditEntry.model_validate({k: v for k, v in plain.items() if k not in KEY_ATTRIBUTES})


def _encode_cursor(sk: str) -> str:
    return base64.urlsafe_b64encode(sk.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        sk = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        sk = ""
    if not sk.startswith(AUDIT) or len(sk) > 200:
        raise InvalidRequest("cursor is not one this listing returned", param="cursor")
    return sk
