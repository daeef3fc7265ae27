"""The errors of the public contract (DESIGN.md §3).

Raise one of these anywhere below the routes; the route layer turns it into
`{"error": {"type", "code", "message", "param"}}` with its status.
"""


class ShoppableError(Exception):
    status = 500
    type = "api_error"
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    def to_body(self) -> dict:
        """`param` is always there: the offending field, or null when no one field is at fault."""
        return {
            "error": {
                "type": self.type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
            }
        }


class InvalidRequest(ShoppableError):
    """Malformed request (400): bad JSON, a body that is not an object, an unknown query field."""

    status = 400
    type = "invalid_request"
    code = "invalid_request"


class ValidationFailed(InvalidRequest):
    """Well-formed but unacceptable content (422): wrong types, missing or unknown fields."""

    status = 422
    code = "parameter_invalid"


class MethodNotAllowed(InvalidRequest):
    """A known path, asked with a method it does not answer; `Allow` lists those it does."""

    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(InvalidRequest):
    status = 413
    code = "body_too_large"


class UnsupportedMediaType(InvalidRequest):
    status = 415
    code = "unsupported_media_type"


class AuthenticationFailed(ShoppableError):
    status = 401
    type = "authentication"
    code = "invalid_api_key"


class InvalidSignature(AuthenticationFailed):
    """A webhook whose signature does not sign its body (or is missing, or too old)."""

    code = "invalid_signature"


class PermissionDenied(ShoppableError):
    status = 403
    type = "permission"
    code = "missing_scope"


class PaymentDeclined(ShoppableError):
    status = 402
    type = "invalid_request"
    code = "payment_declined"


class NotFound(ShoppableError):
    status = 404
    type = "not_found"
    code = "resource_missing"


def route_missing() -> NotFound:
    """What an unknown path answers, in every stack: the deployed API Gateway's gateway
    response (infra/build.py), `make run` (devstack/api_server.py). The message is fixed, since
    API Gateway can only answer a constant body, and echoing a path back is of no use."""
    return NotFound("No such route: check the method and the path.", code="route_missing")


class Conflict(ShoppableError):
    status = 409
    type = "conflict"
    code = "conflict"


class Gone(ShoppableError):
    status = 410
    type = "gone"
    code = "resource_gone"


class RateLimited(ShoppableError):
    status = 429
    type = "rate_limited"
    code = "rate_limited"


class ServiceUnavailable(ShoppableError):
    """A dependency failed in a way the caller may retry (throttling, timeouts)."""

    status = 503
    type = "api_error"
    code = "service_unavailable"
