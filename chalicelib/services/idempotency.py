"""`Idempotency-Key` on creating POSTs, with Stripe's rules, on Powertools' idempotency.

Same key and same request: the first response again. Same key, other request: 409
`idempotency_key_reused`. A request still running under the key: 409 as well. Keys are
scoped to the merchant (or, on public routes, to the route) and kept for 24 hours.
"""

import hashlib
from collections.abc import Callable

from ..errors import Conflict, ValidationFailed

MAX_KEY_LENGTH = 255


def replay_or_run(
    store,
    ttl_seconds: int,
    scope: str,
    key: str,
    fingerprint: bytes,
    respond: Callable[[], dict],
    lambda_context=None,
) -> dict:
    """Run `respond` once per (scope, key); `fingerprint` identifies the request's content.

    With the Lambda context, a request that dies mid-way frees its key when the invocation
    would have timed out, instead of blocking it as in progress.
    """
    from aws_lambda_powertools.utilities.idempotency import (
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    from ..adapters.dynamodb.keys import IDEMPOTENCY_PREFIX

    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
            param="Idempotency-Key",
        )
    config = IdempotencyConfig(
        event_key_jmespath="key",
        payload_validation_jmespath="fingerprint",
        expires_after_seconds=ttl_seconds,
        use_local_cache=False,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    @idempotent_function(
        data_keyword_argument="request",
        persistence_store=store,
        config=config,
        key_prefix=IDEMPOTENCY_PREFIX,
    )
    def run_once(request: dict) -> dict:
        return respond()

    try:
        return run_once(
            request={
                "key": f"{scope}\n{key}",
                "fingerprint": hashlib.sha256(fingerprint).hexdigest(),
            }
        )
    except IdempotencyValidationError as error:
        raise Conflict(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
            param="Idempotency-Key",
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_request_in_progress",
            param="Idempotency-Key",
        ) from error
