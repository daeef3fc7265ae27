"""The vault function's entry point: parse a command, run it, reply (see `commands`).

In production this is the only code whose role may use the vault key and read the vault
tables; the rest of Shoppable reaches it through `client.VaultClient`. Before a command runs,
its assertion must prove its caller (`Vault.admit`, see `assertions`): the merchant, actor
and scopes it names are believed only then. Errors go back as data
and are raised again on the caller's side. Failures are logged by type and place only: an
exception's message may hold an input value, and nothing here may log personal data.
"""

import traceback
from collections.abc import Callable

from pydantic import ValidationError

from ..errors import InvalidRequest, ShoppableError
from ..observability import logger
from .assertions import ASSERTION_FIELD
from .commands import (
    COMMAND,
    CustomerStatuses,
    DescribeCustomers,
    DetokenizeCustomer,
    EraseCustomer,
    ExportCustomer,
    ForgetOrder,
    IdentifyCustomer,
    ReadAuditTrail,
    TokenizeCustomer,
)
from .service import Vault


def handle(get_vault: Callable[[], Vault], event: dict) -> dict:
    if not isinstance(event, dict):
        return _reply_error(InvalidRequest("Not a vault command.", code="invalid_vault_command"))
    try:
        command = COMMAND.validate_python({k: v for k, v in event.items() if k != ASSERTION_FIELD})
    except ValidationError as error:
        where = ", ".join(".".join(map(str, e["loc"])) for e in error.errors(include_url=False))
        return _reply_error(
            InvalidRequest(f"Not a vault command (at {where}).", code="invalid_vault_command")
        )
    try:
        vault = get_vault()
        command.caller = vault.admit(event)
    except ShoppableError as error:
        return _reply_error(error)
    logger.thread_safe_append_keys(merchant_id=command.caller.merchant_id)
    try:
        result = _run(vault, command)
    except ShoppableError as error:
        if error.status >= 500:
            logger.error(
                "vault command failed",
                extra={"command": command.type, "code": error.code, **_token_of(command)},
            )
        return _reply_error(error)
    except Exception as error:
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if "/chalicelib/" in f.filename] or frames
        frame = ours[-1]
        logger.error(
            "vault command failed unexpectedly",
            extra={
                "command": command.type,
                "exception": type(error).__name__,
                "at": f"{frame.filename}:{frame.lineno}",
                **_token_of(command),
            },
        )
        return _reply_error(
            ShoppableError("The vault failed; it has been logged.", code="vault_error")
        )
    return {"ok": True, "result": result.model_dump(mode="json")}


def _run(vault: Vault, command):
    match command:
        case TokenizeCustomer():
            return vault.tokenize(command.caller, command.customer)
        case IdentifyCustomer():
            return vault.identify(
                command.caller, command.customer, command.order_id, command.consent
            )
        case ForgetOrder():
            return vault.forget_order(command.caller, command.email, command.order_id)
        case DetokenizeCustomer():
            return vault.detokenize_for(
                command.caller, command.token, command.purpose, command.order_id
            )
        case ExportCustomer():
            return vault.export(command.caller, command.token)
        case EraseCustomer():
            return vault.erase(command.caller, command.token)
        case ReadAuditTrail():
            return vault.audit_trail(command.caller, command.token, command.limit, command.cursor)
        case DescribeCustomers():
            return CustomerStatuses(data=vault.describe(command.caller, command.tokens))
    raise AssertionError(f"unhandled vault command {command.type}")


def _token_of(command) -> dict:
    token = getattr(command, "token", None)
    return {"token": token} if token else {}


def _reply_error(error: ShoppableError) -> dict:
    return {"ok": False, "error": {**error.to_body()["error"], "status": error.status}}
