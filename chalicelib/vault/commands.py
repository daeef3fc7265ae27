"""The vault's wire protocol: one command in, one reply out, as JSON.

The same dicts travel whether the vault runs as its own Lambda function or in-process, so
the tests exercise the shape that production sends. A reply is `{"ok": true, "result": …}`
or `{"ok": false, "error": {status, type, code, message, param}}`.
"""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from ..domain.base import Model
from .models import (
    AuditPage,
    Caller,
    CustomerCreate,
    CustomerDetails,
    CustomerExport,
    CustomerStatus,
    ErasedCustomer,
    Tokenized,
)
from .policy import Purpose


class _Command(Model):
    model_config = ConfigDict(extra="forbid")

    caller: Caller


class TokenizeCustomer(_Command):
    type: Literal["tokenize"] = "tokenize"
    customer: CustomerCreate


class DetokenizeCustomer(_Command):
    type: Literal["detokenize"] = "detokenize"
    token: str
    purpose: Purpose


class ExportCustomer(_Command):
    type: Literal["export"] = "export"
    token: str


class EraseCustomer(_Command):
    type: Literal["erase"] = "erase"
    token: str


class ReadAuditTrail(_Command):
    type: Literal["audit"] = "audit"
    token: str
    limit: int = Field(20, ge=1, le=100)
    cursor: str | None = None


class DescribeCustomers(_Command):
    type: Literal["describe"] = "describe"
    tokens: list[str] = Field(max_length=100)


class CustomerStatuses(Model):
    data: list[CustomerStatus]


Command = Annotated[
    TokenizeCustomer
    | DetokenizeCustomer
    | ExportCustomer
    | EraseCustomer
    | ReadAuditTrail
    | DescribeCustomers,
    Field(discriminator="type"),
]
# Built on first use, like every model (domain/base.py).
_DEFERRED = ConfigDict(defer_build=True)
COMMAND = TypeAdapter(Command, config=_DEFERRED)

# What each command's reply parses into.
RESULTS: dict[str, TypeAdapter] = {
    "tokenize": TypeAdapter(Tokenized),
    "detokenize": TypeAdapter(CustomerDetails, config=_DEFERRED),
    "export": TypeAdapter(CustomerExport),
    "erase": TypeAdapter(ErasedCustomer),
    "audit": TypeAdapter(AuditPage),
    "describe": TypeAdapter(CustomerStatuses),
}
