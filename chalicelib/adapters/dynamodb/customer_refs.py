"""What shows a customer outside the vault, found again when they are erased.

An order keeps its buyer's token and masked values; an inbox item keeps its author's token,
masked handle and text. Each writes a pointer (`CUSREF#<token>`, `<kind>#<id>`) in the same
transaction as itself, so that erasure can strip every one of them without scanning.
"""

from typing import Any

from . import keys
from .table import ConditionFailed, MainTable, Transaction, from_attributes, to_attributes

ORDER = "ORDER"
INBOX = "INBOX"


def add_ref(tx: Transaction, token: str, kind: str, object_id: str) -> None:
    tx.put({**keys.customer_ref(token, kind, object_id), "token": token})


class CustomerReferences:
    def __init__(self, table: MainTable):
        self.table = table

    def of(self, token: str) -> list[tuple[str, str]]:
        """(kind, object id) of everything pointing at `token`."""
        request: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": to_attributes(
                {":pk": keys.customer_ref(token, "", "")["pk"]}
            ),
        }
        found: list[tuple[str, str]] = []
        while True:
            with self.table._translated():
                response = self.table.client.query(**request)
            for item in response.get("Items", []):
                kind, _, object_id = from_attributes(item)["sk"].partition("#")
                found.append((kind, object_id))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def forget_order_buyer(self, order_id: str, merchant_id: str, token: str) -> bool:
        """The order shows its buyer as erased: token only, the masked values gone."""
        try:
            self.table.update(
                keys.order(order_id),
                "SET customer = :erased",
                "merchant_id = :merchant AND customer.#token = :token",
                names={"#token": "token"},
                values={":erased": {"token": token, "email": None, "name": None,
                                    "erased": True},
                        ":merchant": merchant_id, ":token": token},
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True

    def forget_inbox_author(self, item_id: str, merchant_id: str, token: str) -> bool:
        """The item keeps that something was said, not what or by whom."""
        try:
            self.table.update(
                keys.inbox_item(item_id),
                "SET #text = :none, author = :erased, text_erased = :yes",
                "merchant_id = :merchant AND author.#token = :token",
                names={"#token": "token", "#text": "text"},
                values={":none": "", ":erased": {"token": token, "handle": "", "erased": True},
                        ":yes": True, ":merchant": merchant_id, ":token": token},
            )  # fmt: skip
        except ConditionFailed:
            return False
        return True

    def drop(self, token: str, refs: list[tuple[str, str]]) -> None:
        for kind, object_id in refs:
            with self.table._translated():
                self.table.client.delete_item(
                    TableName=self.table.name,
                    Key=to_attributes(keys.customer_ref(token, kind, object_id)),
                )
