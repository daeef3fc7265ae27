"""How the rest of Shoppable uses the vault: `runtime().vault`, one small client.

    vault.tokenize(caller, customer) -> Tokenized            # a token and masked values
    vault.detokenize_for(caller, token, purpose) -> details  # only what the purpose allows
    vault.export(caller, token), vault.erase(caller, token)
    vault.audit_trail(caller, token, limit, cursor)
    vault.describe(caller, tokens)                           # masked or erased, for orders

A checkout or a platform import tokenizes the buyer first and keeps only the token and the
masked values:

    caller = Caller.service(merchant_id, "checkout", frozenset({Scope.CUSTOMERS_WRITE}))
    buyer = runtime().vault.tokenize(caller, CustomerCreate(email=…, name=…, …))
    order.customer_token, order.customer_masked = buyer.token, buyer.masked

The transport is a function from command dict to reply dict: `LambdaInvoke` calls the vault
function; `InProcess` runs the same handler here. Errors come back as our own error types.
"""

import json
from collections.abc import Callable

from botocore.exceptions import ClientError

from .. import errors
from ..adapters.aws import unavailable_when_unreachable
from ..adapters.sdk_logs import sensitive_sdk_call
from ..errors import ServiceUnavailable, ShoppableError
from .commands import (
    RESULTS,
    DescribeCustomers,
    DetokenizeCustomer,
    EraseCustomer,
    ExportCustomer,
    ReadAuditTrail,
    TokenizeCustomer,
)
from .models import (
    AuditPage,
    Caller,
    CustomerCreate,
    CustomerExport,
    CustomerStatus,
    ErasedCustomer,
    FulfillmentDetails,
    MarketingDetails,
    PayoutReadDetails,
    SupportDetails,
    Tokenized,
)
from .policy import Purpose

Transport = Callable[[dict], dict]


class VaultUnavailable(ShoppableError):
    status = 500
    type = "api_error"
    code = "vault_unavailable"


class VaultClient:
    def __init__(self, send: Transport):
        self._send = send

    def tokenize(self, caller: Caller, customer: CustomerCreate) -> Tokenized:
        return self._call(TokenizeCustomer(caller=caller, customer=customer))

    def detokenize_for(
        self, caller: Caller, token: str, purpose: Purpose
    ) -> FulfillmentDetails | SupportDetails | MarketingDetails | PayoutReadDetails:
        return self._call(DetokenizeCustomer(caller=caller, token=token, purpose=purpose))

    def export(self, caller: Caller, token: str) -> CustomerExport:
        return self._call(ExportCustomer(caller=caller, token=token))

    def erase(self, caller: Caller, token: str) -> ErasedCustomer:
        return self._call(EraseCustomer(caller=caller, token=token))

    def audit_trail(
        self, caller: Caller, token: str, limit: int = 20, cursor: str | None = None
    ) -> AuditPage:
        return self._call(ReadAuditTrail(caller=caller, token=token, limit=limit, cursor=cursor))

    def describe(self, caller: Caller, tokens: list[str]) -> list[CustomerStatus]:
        return self._call(DescribeCustomers(caller=caller, tokens=tokens)).data

    def _call(self, command):
        reply = self._send(command.model_dump(mode="json"))
        if reply.get("ok"):
            return RESULTS[command.type].validate_python(reply["result"])
        raise error_from_reply(reply.get("error") or {})


class InProcess:
    """Runs the vault handler in this process (tests, `make run`)."""

    def __init__(self, get_vault: Callable):
        self._get_vault = get_vault

    def __call__(self, command: dict) -> dict:
        from .handler import handle

        return handle(self._get_vault, command)


class LambdaInvoke:
    """Calls the vault function synchronously (boto3 Lambda client)."""

    def __init__(self, client, function_name: str):
        self.client = client
        self.function_name = function_name

    def __call__(self, command: dict) -> dict:
        try:
            # command and reply may hold a person's data
            with sensitive_sdk_call(), unavailable_when_unreachable("The vault"):
                response = self.client.invoke(
                    FunctionName=self.function_name,
                    InvocationType="RequestResponse",
                    Payload=json.dumps(command).encode(),
                )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("TooManyRequestsException", "ServiceException", "EC2ThrottledException"):
                raise ServiceUnavailable("The vault is busy; retry the request.") from error
            raise VaultUnavailable(f"The vault could not be called ({code}).") from error
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            # The payload names the exception and may quote its message: not for our errors.
            raise VaultUnavailable("The vault failed; it has been logged.")
        return json.loads(payload)


_ERRORS_BY_STATUS: dict[int, type[ShoppableError]] = {
    400: errors.InvalidRequest,
    401: errors.AuthenticationFailed,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    409: errors.Conflict,
    410: errors.Gone,
    413: errors.PayloadTooLarge,
    415: errors.UnsupportedMediaType,
    422: errors.ValidationFailed,
    429: errors.RateLimited,
    503: errors.ServiceUnavailable,
}


def error_from_reply(error: dict) -> ShoppableError:
    """The vault's error raised again on this side, as the same type with the same code."""
    status = int(error.get("status", 500))
    kind = _ERRORS_BY_STATUS.get(status, ShoppableError)
    raised = kind(
        str(error.get("message", "The vault failed.")),
        code=error.get("code"),
        param=error.get("param"),
    )
    if kind is ShoppableError:
        raised.status = status
    return raised
