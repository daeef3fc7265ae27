"""`Idempotency-Key` on creating POSTs, with Stripe's rules, on Powertools' idempotency.

Same key and same request: the first response again. Same key, other request: 409
`idempotency_key_reused`. A request still running under the key: 409 as well. Keys are
scoped to the merchant (the public checkout: to the shop and the buyer, see web.py) and kept
for 24 hours. The request's fingerprint arrives as a keyed digest (HMAC under a server
secret), never a bare hash of a body that may hold a person's data; what is stored of the
response is what the route chose to keep (web.py, `Replay`).

Powertools puts every record in one partition when the table has a sort key; keying each
record by its own id (`IDEM#<hash>`) spreads them, as DynamoDB wants.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ...errors import Conflict, ServiceUnavailable, ValidationFailed
from . import keys
from .schema import TTL_ATTRIBUTE

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class IdempotentRequest:
    scope: str  # the merchant; the public checkout: the shop and a digest of the buyer
    key: str  # the client's Idempotency-Key
    fingerprint: str  # a keyed digest of the request's method, path and body


def _records(table_name: str, client: Any) -> Any:
    """Powertools' DynamoDB persistence, keyed our way. Powertools is imported here, on the
    first idempotent request: most requests, and most functions, never need it."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    class Records(DynamoDBPersistenceLayer):
        def _get_key(self, idempotency_key: str) -> dict:
            key = keys.idempotency(idempotency_key)
            return {"pk": {"S": key["pk"]}, "sk": {"S": key["sk"]}}

    return Records(
        table_name=table_name,
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr=TTL_ATTRIBUTE,
        boto3_client=client,
    )


class IdempotencyStore:
    def __init__(self, table_name: str, client: Any, ttl_seconds: int):
        self._table_name = table_name
        self._client = client
        self._ttl_seconds = ttl_seconds

    @cached_property
    def _records(self) -> Any:
        return _records(self._table_name, self._client)

    def replay_or_run(
        self, request: IdempotentRequest, respond: Callable[[], dict], lambda_context: Any = None
    ) -> dict:
        """Run `respond` once per (scope, key). With the Lambda context, a request that dies
        mid-way frees its key when the invocation would have timed out, instead of blocking
        it as in progress."""
        from aws_lambda_powertools.utilities.idempotency import (
            IdempotencyConfig,
            idempotent_function,
        )
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyPersistenceLayerError,
            IdempotencyValidationError,
        )

        key = request.key
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ValidationFailed(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
                param="Idempotency-Key",
            )
        config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="fingerprint",
            expires_after_seconds=self._ttl_seconds,
            use_local_cache=False,
        )
        if lambda_context is not None:
            config.register_lambda_context(lambda_context)

        @idempotent_function(
            data_keyword_argument="request",
            persistence_store=self._records,
            config=config,
            key_prefix=keys.IDEMPOTENCY_PREFIX,
        )
        def run_once(request: dict) -> dict:
            return respond()

        try:
            return run_once(
                request={
                    "key": f"{request.scope}\n{key}",
                    "fingerprint": request.fingerprint,
                }
            )
        except IdempotencyValidationError as error:
            raise Conflict(
                "This Idempotency-Key was used with a different request.",
                code="idempotency_key_reused",
                param="Idempotency-Key",
            ) from error
        except IdempotencyPersistenceLayerError as error:
            raise ServiceUnavailable("The store did not answer; retry the request.") from error
        except IdempotencyAlreadyInProgressError as error:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code="idempotency_request_in_progress",
                param="Idempotency-Key",
            ) from error
