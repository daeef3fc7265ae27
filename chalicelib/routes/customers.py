"""Customers: the vault's routes for merchants, each checked against the key's scopes."""

from typing import Any

from pydantic import BaseModel

from ..domain.listing import ListOf, ListQuery, listing
from ..domain.scopes import Scope
from ..errors import Gone
from ..services import customers
from ..vault.models import (
    AuditEntry,
    Caller,
    CustomerCreate,
    CustomerDetails,
    CustomerExport,
    DetokenizeQuery,
    ErasedCustomer,
    Tokenized,
)
from ..vault.policy import READ_SCOPES
from ..web import Call, Replay, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


def _keep_token(body: dict[str, Any]) -> dict[str, Any]:
    """The stored answer keeps the token, not the masked values (they go on erasure)."""
    return {name: value for name, value in body.items() if name != "masked"}


def _answer_token(call: Call, kept: dict[str, Any]) -> dict[str, Any]:
    (status,) = call.rt.vault.describe(Caller.for_key(call.key), [kept["token"]])
    if status.masked is None:
        raise Gone(f"Customer '{kept['token']}' was erased.", code="customer_erased")
    return {**kept, "masked": status.masked.model_dump(mode="json")}


@routes.route(
    "/v1/customers",
    "POST",
    scope=Scope.CUSTOMERS_WRITE,
    body=CustomerCreate,
    returns=Tokenized,
    status=201,
    idempotent=True,
    replay=Replay(keep=_keep_token, answer=_answer_token),
    summary="Put a person's data in the vault; returns their token and masked values",
)
def create_customer(call: Call) -> Tokenized:
    return call.rt.vault.tokenize(Caller.for_key(call.key), call.body)


@routes.route(
    "/v1/customers/{token}",
    "GET",
    scope=READ_SCOPES,
    query=DetokenizeQuery,
    returns=CustomerDetails,
    summary="A customer's data, only the fields the purpose allows; audited",
)
def get_customer(call: Call, token: str) -> BaseModel:
    q = call.query
    return call.rt.vault.detokenize_for(Caller.for_key(call.key), token, q.purpose, q.order_id)


@routes.route(
    "/v1/customers/{token}/export",
    "GET",
    scope=Scope.CUSTOMERS_EXPORT,
    returns=CustomerExport,
    summary="Everything held on a customer, and every access to it (GDPR art. 15, 20)",
)
def export_customer(call: Call, token: str) -> CustomerExport:
    return call.rt.vault.export(Caller.for_key(call.key), token)


@routes.route(
    "/v1/customers/{token}/audit",
    "GET",
    scope=Scope.CUSTOMERS_AUDIT,
    query=ListQuery,
    returns=ListOf[AuditEntry],
    summary="Who read or changed a customer's data, when and for what, newest first",
)
def list_customer_audit(call: Call, token: str) -> ListOf[AuditEntry]:
    page = call.rt.vault.audit_trail(
        Caller.for_key(call.key), token, call.page_size(), call.query.cursor
    )
    return listing(page.entries, page.next_cursor)


@routes.route(
    "/v1/customers/{token}",
    "DELETE",
    scope=Scope.CUSTOMERS_ERASE,
    returns=ErasedCustomer,
    summary="Erase a customer: their data key is destroyed, their orders and inbox items "
    "keep only the token; every read is 410 afterwards",
)
def erase_customer(call: Call, token: str) -> ErasedCustomer:
    return customers.erase_customer(call.rt.customers, Caller.for_key(call.key), token)
