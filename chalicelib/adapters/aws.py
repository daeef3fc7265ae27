"""The AWS SDK's failures in our terms, for every adapter that calls AWS.

A call that timed out, could not connect, was throttled or got a 5xx after botocore's own
retries is `ServiceUnavailable` (503: the caller may retry); anything else is raised as it is
for the adapter to translate, or to surface as a 500 the logs explain.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as SdkConnectionError

from ..errors import ServiceUnavailable

RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionConflictException",
    }
)


def is_retryable(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return code in RETRYABLE or status >= 500


@contextmanager
def unavailable_when_unreachable(what: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        if is_retryable(error):
            raise ServiceUnavailable(f"{what} is busy; retry the request.") from error
        raise
    except (HTTPClientError, SdkConnectionError) as error:
        raise ServiceUnavailable(f"{what} did not answer; retry the request.") from error
