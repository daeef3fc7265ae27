"""The vault's wire protocol: one command in, one reply out, as JSON.

The same dicts travel whether the vault runs as its own Lambda function or in-process, so
the tests exercise the shape that production sends. A reply is `{"ok": true, "result": …}`
or `{"ok": false, "error": {status, type, code, message, param}}`.

Every command also carries an `assertion` (see `assertions`): the proof of its `caller`,
checked by the vault before the command is parsed any further.
"""

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from ..domain.base import Model
from ..domain.customers import Email
from .models import (
    AuditPage,
    Caller,
    ConsentGiven,
    CustomerCreate,
    CustomerDetails,
    CustomerExport,
    CustomerStatus,
    ErasedCustomer,
    ForgottenOrder,
    Tokenized,
)
from .policy import Purpose


class _Command(Model):
    model_config = ConfigDict(extra="forbid")

    caller: Caller


class TokenizeCustomer(_Command):
    type: Literal["tokenize"] = "tokenize"
    customer: CustomerCreate


class IdentifyCustomer(_Command):
    """Find a person by email, or file them if new; never changes what is held on them.
    With `order_id`, keeps the details given as that order's own sealed snapshot."""

    type: Literal["identify"] = "identify"
    customer: CustomerCreate
    order_id: str | None = Field(None, max_length=64)
    consent: ConsentGiven | None = None


class ForgetOrder(_Command):
    """Undo `identify` for an order whose checkout failed: its snapshot and consent, and the
    customer too if that checkout created them and nothing else refers to them. By email,
    so that it works even when the reply to `identify` was lost."""

    type: Literal["forget_order"] = "forget_order"
    email: Email
    order_id: str = Field(max_length=64)


class DetokenizeCustomer(_Command):
    type: Literal["detokenize"] = "detokenize"
    token: str
    purpose: Purpose
    order_id: str | None = Field(None, max_length=64)


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
    | IdentifyCustomer
    | ForgetOrder
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
    "identify": TypeAdapter(Tokenized),
    "forget_order": TypeAdapter(ForgottenOrder),
    "detokenize": TypeAdapter(CustomerDetails, config=_DEFERRED),
    "export": TypeAdapter(CustomerExport),
    "erase": TypeAdapter(ErasedCustomer),
    "audit": TypeAdapter(AuditPage),
    "describe": TypeAdapter(CustomerStatuses),
}
