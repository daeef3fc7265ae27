"""How the rest of Shoppable uses the vault: `runtime().vault`, one small client.

    vault.tokenize(caller, customer) -> Tokenized            # a merchant's data (customers:write)
    vault.identify(caller, customer, order_id, consent)      # a buyer's: never changes a record
    vault.forget_order(caller, email, order_id)              # undo identify (failed checkout)
    vault.detokenize_for(caller, token, purpose[, order_id]) # only what the purpose allows
    vault.export(caller, token), vault.erase(caller, token)
    vault.audit_trail(caller, token, limit, cursor)
    vault.describe(caller, tokens)                           # masked or erased, for orders

A checkout or a platform import identifies the buyer and keeps only the token and the
masked values:

    caller = Caller.service(merchant_id, "checkout", frozenset({Scope.CUSTOMERS_WRITE}))
    buyer = runtime().vault.identify(caller, CustomerCreate(email=…, name=…, …), order.id)
    order.customer = BuyerRef(token=buyer.token, email=buyer.masked.email, …)

Each command goes with an assertion of its caller, minted here with this function's key
(`assertions.Minter`: the API edge's, or the workers'), which the vault verifies.

The transport is a function from command dict to reply dict: `LambdaInvoke` calls the vault
function; `InProcess` runs the same handler here, on the same JSON. Errors come back as our
own error types.
"""

import json
from collections.abc import Callable

from botocore.exceptions import ClientError

from .. import errors
from ..adapters.aws import unavailable_when_unreachable
from ..adapters.sdk_logs import sensitive_sdk_call
from ..errors import ServiceUnavailable, ShoppableError
from .assertions import ASSERTION_FIELD
from .commands import (
    RESULTS,
    DescribeCustomers,
    DetokenizeCustomer,
    EraseCustomer,
    ExportCustomer,
    ForgetOrder,
    IdentifyCustomer,
    ReadAuditTrail,
    TokenizeCustomer,
)
from .models import (
    AuditPage,
    Caller,
    ConsentGiven,
    CustomerCreate,
    CustomerExport,
    CustomerStatus,
    ErasedCustomer,
    ForgottenOrder,
    FulfillmentDetails,
    MarketingDetails,
    PayoutReadDetails,
    SupportDetails,
    Tokenized,
)
from .policy import Purpose

Transport = Callable[[dict], dict]
Mint = Callable[[dict], dict]


class VaultUnavailable(ShoppableError):
    status = 500
    type = "api_error"
    code = "vault_unavailable"


class VaultClient:
    def __init__(self, send: Transport, mint: Mint):
        self._send = send
        self._mint = mint

    def tokenize(self, caller: Caller, customer: CustomerCreate) -> Tokenized:
        return self._call(TokenizeCustomer(caller=caller, customer=customer))

    def identify(
        self,
        caller: Caller,
        customer: CustomerCreate,
        order_id: str | None = None,
        consent: ConsentGiven | None = None,
    ) -> Tokenized:
        return self._call(
            IdentifyCustomer(caller=caller, customer=customer, order_id=order_id, consent=consent)
        )

    def forget_order(self, caller: Caller, email: str, order_id: str) -> ForgottenOrder:
        return self._call(ForgetOrder(caller=caller, email=email, order_id=order_id))

    def detokenize_for(
        self, caller: Caller, token: str, purpose: Purpose, order_id: str | None = None
    ) -> FulfillmentDetails | SupportDetails | MarketingDetails | PayoutReadDetails:
        return self._call(
            DetokenizeCustomer(caller=caller, token=token, purpose=purpose, order_id=order_id)
        )

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
        payload = command.model_dump(mode="json")
        payload[ASSERTION_FIELD] = self._mint(payload)
        reply = self._send(payload)
        if reply.get("ok"):
            return RESULTS[command.type].validate_python(reply["result"])
        raise error_from_reply(reply.get("error") or {})


class InProcess:
    """Runs the vault handler in this process (tests, `make run`)."""

    def __init__(self, get_vault: Callable):
        self._get_vault = get_vault

    def __call__(self, command: dict) -> dict:
        from .handler import handle

        # The same JSON the Lambda invocation carries, so the assertion is checked on it.
        return handle(self._get_vault, json.loads(json.dumps(command)))


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
