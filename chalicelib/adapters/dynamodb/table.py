"""The main table: (de)serialisation, cursor pages, transactions, and error translation.

Repositories build their expressions on top of this and turn a failed condition into the
domain's refusal (`domain/errors.py`); nothing above the adapters sees `ClientError`, a
transaction's failed positions or DynamoDB's attribute-value format.
"""

import base64
import binascii
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

from ...errors import InvalidRequest, ServiceUnavailable
from ..aws import unavailable_when_unreachable
from . import schema

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConditionFailed(Exception):
    """A condition of a write did not hold. `reasons` has one code per transaction item.

    Only the repositories see it: each turns it into the domain's refusal."""

    def __init__(self, reasons: list[str] | None = None):
        super().__init__("condition failed")
        self.reasons = reasons or []

    def failed_indexes(self) -> list[int]:
        return [i for i, code in enumerate(self.reasons) if code == "ConditionalCheckFailed"]


def to_attributes(values: dict[str, Any]) -> dict[str, dict]:
    return {name: _serializer.serialize(value) for name, value in values.items()}


def from_attributes(item: dict[str, dict]) -> dict[str, Any]:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | set | frozenset):
        return [_plain(v) for v in value]
    return value


def model_item(model: BaseModel, keys: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A model as a plain item (floats as Decimal, as DynamoDB wants), plus its keys."""
    body = json.loads(model.model_dump_json(exclude={"object"}), parse_float=Decimal)
    return {**body, **keys, **extra}


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in schema.KEY_ATTRIBUTES}


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass
class Transaction:
    """Write items gathered for one `TransactWriteItems` (100 items at most), in this table
    or, where `table` is given, another of the stack's."""

    table_name: str
    items: list[dict] = field(default_factory=list)

    def put(
        self,
        item: dict[str, Any],
        condition: str | None = None,
        *,
        table: str | None = None,
        **expression: Any,
    ) -> None:
        op: dict[str, Any] = {"TableName": table or self.table_name, "Item": to_attributes(item)}
        self.items.append({"Put": _with_condition(op, condition, expression)})

    def update(self, key: dict, update: str, condition: str | None = None, **expression) -> None:
        op = {"TableName": self.table_name, "Key": to_attributes(key), "UpdateExpression": update}
        self.items.append({"Update": _with_condition(op, condition, expression)})

    def delete(
        self, key: dict, condition: str | None = None, *, table: str | None = None, **expression
    ) -> None:
        op = {"TableName": table or self.table_name, "Key": to_attributes(key)}
        self.items.append({"Delete": _with_condition(op, condition, expression)})

    def check(self, key: dict, condition: str, **expression: Any) -> None:
        op = {"TableName": self.table_name, "Key": to_attributes(key)}
        self.items.append({"ConditionCheck": _with_condition(op, condition, expression)})


def _with_condition(op: dict, condition: str | None, expression: dict) -> dict:
    if condition:
        op["ConditionExpression"] = condition
    names = expression.get("names")
    values = expression.get("values")
    if names:
        op["ExpressionAttributeNames"] = names
    if values:
        op["ExpressionAttributeValues"] = to_attributes(values)
    return op


class MainTable:
    def __init__(self, client, table_name: str):
        self.client = client
        self.name = table_name

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            with unavailable_when_unreachable("The store"):
                yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise ConditionFailed(["ConditionalCheckFailed"]) from error
            if code == "TransactionCanceledException":
                reasons = [
                    r.get("Code", "None") for r in error.response.get("CancellationReasons", [])
                ]
                if "ConditionalCheckFailed" in reasons:
                    raise ConditionFailed(reasons) from error
                raise ServiceUnavailable("the store is busy; retry the request") from error
            raise

    def answers(self) -> bool:
        """Whether the table can be reached and described (the health check)."""
        try:
            with self._translated():
                self.client.describe_table(TableName=self.name)
        except Exception:
            return False
        return True

    def get(self, key: dict[str, str], consistent: bool = True) -> dict[str, Any] | None:
        with self._translated():
            response = self.client.get_item(
                TableName=self.name, Key=to_attributes(key), ConsistentRead=consistent
            )
        item = response.get("Item")
        return from_attributes(item) if item else None

    def get_many(self, keys: list[dict[str, str]]) -> list[dict[str, Any]]:
        """Strongly consistent batch read; order is not kept, duplicates are read once."""
        unique = list({(k["pk"], k["sk"]): k for k in keys}.values())
        found: list[dict[str, Any]] = []
        for start in range(0, len(unique), 100):
            pending = {
                self.name: {
                    "Keys": [to_attributes(k) for k in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while pending:
                with self._translated():
                    response = self.client.batch_get_item(RequestItems=pending)
                found += [from_attributes(i) for i in response["Responses"].get(self.name, [])]
                pending = response.get("UnprocessedKeys") or {}
        return found

    def put(self, item: dict[str, Any], condition: str | None = None, **expression: Any) -> None:
        op = _with_condition(
            {"TableName": self.name, "Item": to_attributes(item)}, condition, expression
        )
        with self._translated():
            self.client.put_item(**op)

    def update(
        self, key: dict, update: str, condition: str | None = None, **expression: Any
    ) -> dict[str, Any]:
        op = _with_condition(
            {"TableName": self.name, "Key": to_attributes(key), "UpdateExpression": update},
            condition,
            expression,
        )
        with self._translated():
            response = self.client.update_item(**op, ReturnValues="ALL_NEW")
        return from_attributes(response.get("Attributes", {}))

    def transaction(self) -> Transaction:
        return Transaction(self.name)

    def commit(self, transaction: Transaction, token: str | None = None) -> None:
        request: dict[str, Any] = {"TransactItems": transaction.items}
        if token:
            request["ClientRequestToken"] = token
        with self._translated():
            self.client.transact_write_items(**request)

    def query_listing(
        self,
        gsi1pk: str,
        limit: int,
        cursor: str | None,
        created_from: str | None = None,
        created_to: str | None = None,
        status: str | None = None,
        of_type: str | None = None,
    ) -> Page:
        """One page of a merchant listing, newest first, optionally within a creation-time
        range (ISO 8601 strings sort by time) and of one status or type."""
        condition = "gsi1pk = :p"
        values: dict[str, Any] = {":p": gsi1pk}
        if created_from or created_to:
            condition += " AND gsi1sk BETWEEN :from AND :to"
            values[":from"] = created_from or "0"
            values[":to"] = (created_to or "9999") + "\uffff"
        request: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": schema.GSI1,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if status:
            request["FilterExpression"] = "#status = :status"
            request["ExpressionAttributeNames"] = {"#status": "status"}
            values[":status"] = status
        if of_type:
            request["FilterExpression"] = "#type = :type"
            request["ExpressionAttributeNames"] = {"#type": "type"}
            values[":type"] = of_type
        request["ExpressionAttributeValues"] = to_attributes(values)
        if cursor:
            request["ExclusiveStartKey"] = to_attributes(_decode_cursor(cursor, gsi1pk))
        with self._translated():
            response = self.client.query(**request)
        items = [from_attributes(i) for i in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(items, _encode_cursor(from_attributes(last)) if last else None)

    def query_between(self, pk: str, sk_from: str, sk_to: str) -> list[dict[str, Any]]:
        """Every item of partition `pk` whose sort key is between the two, in order, read
        page by page (for bounded partitions: a month of a merchant's funnel, a statement)."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "pk = :p AND sk BETWEEN :from AND :to",
            "ExpressionAttributeValues": to_attributes({":p": pk, ":from": sk_from, ":to": sk_to}),
        }
        items: list[dict[str, Any]] = []
        while True:
            with self._translated():
                response = self.client.query(**request)
            items += [from_attributes(i) for i in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return items
            request["ExclusiveStartKey"] = last

    def partition(self, pk: str, limit: int = 100) -> list[dict[str, Any]]:
        """The items under one partition key (pointers kept beside each other)."""
        with self._translated():
            response = self.client.query(
                TableName=self.name,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues=to_attributes({":p": pk}),
                ConsistentRead=True,
                Limit=limit,
            )
        return [from_attributes(i) for i in response.get("Items", [])]

    def delete(self, key: dict[str, str], condition: str | None = None, **expression: Any) -> None:
        op = _with_condition(
            {"TableName": self.name, "Key": to_attributes(key)}, condition, expression
        )
        with self._translated():
            self.client.delete_item(**op)

    def index_partition(self, gsi2pk: str) -> Iterator[dict[str, Any]]:
        """Every item of one GSI2 partition, page after page."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": schema.GSI2,
            "KeyConditionExpression": "gsi2pk = :p",
            "ExpressionAttributeValues": to_attributes({":p": gsi2pk}),
        }
        while True:
            with self._translated():
                response = self.client.query(**request)
            yield from (from_attributes(i) for i in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def due(self, gsi2pk: str, until: str, limit: int = 100) -> list[dict[str, Any]]:
        """Keys of the items in a GSI2 partition whose sort key is at or before `until`."""
        with self._translated():
            response = self.client.query(
                TableName=self.name,
                IndexName=schema.GSI2,
                KeyConditionExpression="gsi2pk = :p AND gsi2sk <= :until",
                ExpressionAttributeValues=to_attributes({":p": gsi2pk, ":until": until}),
                Limit=limit,
            )
        return [from_attributes(i) for i in response.get("Items", [])]


_CURSOR_FIELDS = {"pk", "sk", "gsi1pk", "gsi1sk"}


def _encode_cursor(last_key: dict[str, Any]) -> str:
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, gsi1pk: str) -> dict[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if (
        not isinstance(key, dict)
        or set(key) != _CURSOR_FIELDS
        or not all(isinstance(v, str) for v in key.values())
        or key["gsi1pk"] != gsi1pk
    ):
        raise InvalidRequest("cursor is not one this listing returned", param="cursor")
    return key
