"""The vault function's entry point: parse a command, run it, reply (see `commands`).

In production this is the only code whose role may use the vault key and read the vault
tables; the rest of Shoppable reaches it through `client.VaultClient`. Errors go back as data
and are raised again on the caller's side. Failures are logged by type and place only: an
exception's message may hold an input value, and nothing here may log personal data.
"""

import traceback
from collections.abc import Callable

from pydantic import ValidationError

from ..errors import InvalidRequest, ShoppableError
from ..observability import logger
from .commands import (
    COMMAND,
    CustomerStatuses,
    DescribeCustomers,
    DetokenizeCustomer,
    EraseCustomer,
    ExportCustomer,
    ReadAuditTrail,
    TokenizeCustomer,
)
from .service import Vault


def handle(get_vault: Callable[[], Vault], event: dict) -> dict:
    try:
        command = COMMAND.validate_python(event)
    except ValidationError as error:
        where = ", ".join(".".join(map(str, e["loc"])) for e in error.errors(include_url=False))
        return _reply_error(
            InvalidRequest(f"Not a vault command (at {where}).", code="invalid_vault_command")
        )
    logger.thread_safe_append_keys(merchant_id=command.caller.merchant_id)
    try:
        result = _run(get_vault(), command)
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
        case DetokenizeCustomer():
            return vault.detokenize_for(command.caller, command.token, command.purpose)
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
