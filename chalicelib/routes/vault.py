"""The vault as its own Lambda function: only its role may use the vault key and tables."""

from typing import Any

from chalice import Blueprint

from ..runtime import runtime
from ..vault.handler import handle

blueprint = Blueprint(__name__)


@blueprint.lambda_function(name="vault")
def vault_function(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(lambda: runtime().vault_backend, event)
