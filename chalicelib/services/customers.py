"""Erasing a customer, everywhere.

The vault crypto-shreds the person (their data key, snapshots, consents and blind index go);
what showed them outside the vault goes next: the masked values their orders kept, the text
and masked handle of what they wrote in the inbox. Each of those pointed at the token when it
was written (`CustomerReferences`). An erasure asked again finds the vault's 410 and finishes
what a first attempt left, so a failure half-way is fixed by retrying the request.
"""

from dataclasses import dataclass
from typing import Protocol

from ..errors import Gone
from ..observability import logger
from ..vault.models import Caller, ErasedCustomer


class CustomerEraser(Protocol):
    def erase(self, caller: Caller, token: str) -> ErasedCustomer: ...


class CustomerReferences(Protocol):
    def of(self, token: str) -> list[tuple[str, str]]:
        """(kind, object id) of everything showing the customer outside the vault."""
        ...

    def forget_order_buyer(self, order_id: str, merchant_id: str, token: str) -> bool: ...

    def forget_inbox_author(self, item_id: str, merchant_id: str, token: str) -> bool: ...

    def drop(self, token: str, refs: list[tuple[str, str]]) -> None: ...


@dataclass(frozen=True)
class Customers:
    vault: CustomerEraser
    references: CustomerReferences


def erase_customer(customers: Customers, caller: Caller, token: str) -> ErasedCustomer:
    """The vault decides whose token it is (404 for another merchant's) before anything goes."""
    try:
        erased = customers.vault.erase(caller, token)
    except Gone:
        forget_outside_the_vault(customers, caller.merchant_id, token)
        raise
    forget_outside_the_vault(customers, caller.merchant_id, token)
    return erased


def forget_outside_the_vault(customers: Customers, merchant_id: str, token: str) -> int:
    refs = customers.references.of(token)
    forgotten = 0
    for kind, object_id in refs:
        if kind == "ORDER":
            forgotten += customers.references.forget_order_buyer(object_id, merchant_id, token)
        elif kind == "INBOX":
            forgotten += customers.references.forget_inbox_author(object_id, merchant_id, token)
    customers.references.drop(token, refs)
    logger.info("erased customer forgotten outside the vault",
                extra={"token": token, "objects": forgotten})  # fmt: skip
    return forgotten
