"""JSON over HTTP for the platform adapters (urllib3, which botocore already brings).

Platform failures become the domain's `PlatformError` with the platform's own message, so
that a failed publication can show it; `retryable` tells the caller whether trying again may
help.
Access tokens travel in headers or the query string and are never logged.
"""

import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from ...domain.errors import PlatformError
from ...observability import count, logger

T = TypeVar("T")


class JsonHttp:
    def __init__(self, platform: str, base_url: str, timeout: float = 5.0):
        import urllib3

        self.platform = platform
        self.base_url = base_url.rstrip("/")
        self._pool = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=min(timeout, 2.0), read=timeout),
            retries=False,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> Any:
        """JSON in and out; `form` sends an `application/x-www-form-urlencoded` body instead
        (OAuth 2.0 token endpoints)."""
        url = self.base_url + path
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        sent = {"Accept": "application/json", **(headers or {})}
        payload = None
        if form is not None:
            payload = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        try:
            response = self._pool.request(method, url, body=payload, headers=sent)
        except Exception as error:  # urllib3's connection and timeout errors
            raise PlatformError(self.platform, 0, type(error).__name__, retryable=True) from None
        try:
            answer = json.loads(response.data) if response.data else {}
        except ValueError:
            answer = {}
        if response.status >= 400:
            raise PlatformError(
                self.platform,
                response.status,
                _message(answer) or f"HTTP {response.status}",
                retryable=response.status == 429 or response.status >= 500,
            )
        return answer


def _message(answer: Any) -> str | None:
    """The error text of Meta (`error.message`), X (`detail`, `title`), Pinterest and TikTok
    (`message`), and OAuth 2.0 token endpoints (`error_description`, `error`)."""
    if not isinstance(answer, dict):
        return None
    error = answer.get("error")
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:500]
    for key in ("detail", "message", "title", "error_description", "error"):
        if answer.get(key):
            return str(answer[key])[:500]
    return None


def basic_auth(user: str, password: str) -> dict[str, str]:
    """HTTP Basic credentials: how OAuth 2.0 confidential clients authenticate (X, Pinterest)."""
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unless_refused(platform: str, lookup: str, call: Callable[[], T]) -> T | None:
    """The look-up's answer, or None if the platform refuses it (no permission, no consent,
    no such object): the caller keeps what it knows. Failures that may pass (5xx, 429, no
    answer) are raised, so the message is tried again."""
    try:
        return call()
    except PlatformError as error:
        if error.retryable:
            raise
        logger.warning(
            "platform refused a look-up; kept what is known",
            extra={"platform": platform, "lookup": lookup, "status": error.status},
        )
        count("PlatformLookupsRefused", platform=platform, lookup=lookup)
        return None
