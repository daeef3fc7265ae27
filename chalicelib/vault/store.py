"""The vault's DynamoDB items. Every key and expression of the two vault tables is built here.

Data table (`vault_table`):
    CUS#<token>  CUSTOMER            sealed fields (`sealed_<field>`, binary), masked values,
                                     consent time, the email's blind index; after erasure a
                                     tombstone (token, merchant, dates, `status = erased`)
    CUS#<token>  AUDIT#<at>#<rand>   one access: action, actor, purpose, field names
    IDX#<hmac>   EMAIL               blind index -> token (one per merchant and email)
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
from .models import AuditEntry, AuditPage, CustomerRecord, MaskedCustomer
from .policy import PERSONAL_FIELDS
from .schema import KEY_ATTRIBUTES

SEALED = "sealed_"
AUDIT = "AUDIT#"
_NAMES = {"#status": "status", "#merchant": "merchant_id"}


def customer_key(token: str) -> dict:
    return {"pk": f"CUS#{token}", "sk": "CUSTOMER"}


def index_key(email_index: str) -> dict:
    return {"pk": f"IDX#{email_index}", "sk": "EMAIL"}


def data_key_key(token: str) -> dict:
    return {"pk": f"KEY#{token}", "sk": "DATAKEY"}


def audit_key(entry: AuditEntry) -> dict:
    return {
        "pk": f"CUS#{entry.token}",
        "sk": f"{AUDIT}{entry.at.isoformat()}#{secrets.token_hex(4)}",
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

    def add_customer(self, record: CustomerRecord, wrapped_key: bytes, audit: AuditEntry) -> bool:
        """Index, record, key and audit entry together; False if the index was claimed first."""
        assert record.email_index is not None
        tx = self.data.transaction()
        tx.put(
            {**index_key(record.email_index), "token": record.token},
            "attribute_not_exists(pk)",
        )
        tx.put(_item(record), "attribute_not_exists(pk)")
        tx.put(_audit_item(audit))
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
        if record.marketing_consent_at is not None:
            sets.append("marketing_consent_at = :consent")
            values[":consent"] = record.marketing_consent_at.isoformat()
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
            + ["masked", "email_index", "marketing_consent_at"]
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
    }
    if record.marketing_consent_at is not None:
        item["marketing_consent_at"] = record.marketing_consent_at.isoformat()
    return {k: v for k, v in item.items() if v is not None}


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
        marketing_consent_at=when("marketing_consent_at"),
        erased_at=when("erased_at"),
    )


def _audit_item(entry: AuditEntry) -> dict[str, Any]:
    return {**audit_key(entry), **entry.model_dump(mode="json", exclude={"object"})}


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
