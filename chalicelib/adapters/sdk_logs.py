"""Keeps the AWS SDK's debug logs away from what the vault handles.

At DEBUG, botocore logs every request's parameters and every response's body: for KMS that
is the plaintext data key, for the vault's Lambda invocations a person's data. While a
`sensitive_sdk_call()` block runs, botocore's request and response debug records are dropped;
everything else, and every other call, logs as before.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# The botocore loggers that write parameters or bodies.
BODY_LOGGERS = ("botocore.endpoint", "botocore.parsers")

_sensitive: ContextVar[bool] = ContextVar("vault_sensitive_sdk_call", default=False)


class _DropDuringSensitiveCalls(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_sensitive.get() and record.levelno <= logging.DEBUG)


_FILTER = _DropDuringSensitiveCalls()


def _install() -> None:
    for name in BODY_LOGGERS:
        sdk_logger = logging.getLogger(name)
        if _FILTER not in sdk_logger.filters:
            sdk_logger.addFilter(_FILTER)


@contextmanager
def sensitive_sdk_call() -> Iterator[None]:
    _install()
    token = _sensitive.set(True)
    try:
        yield
    finally:
        _sensitive.reset(token)
