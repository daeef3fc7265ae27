"""Connecting a merchant's accounts through the redirect flow, as its browser would: ask the
API for the platform's consent URL, open it (the platform stand-in approves at once and
redirects), and follow the redirect back to the API's callback.

`make run` connects the demo shop's accounts this way (the stand-in grants the accounts the
sample deliveries of events/ are for), and `python -m devstack.cli connect <platform>` does it
for any merchant's key, or only prints the URL to open in a browser.
"""

import http.client
import json
from urllib.parse import urlsplit

from .loopback import LOOPBACK


class ConnectFailed(Exception):
    pass


def _request(method: str, url: str, key: str | None = None) -> tuple[int, dict, bytes]:
    parts = urlsplit(url)
    if parts.hostname != LOOPBACK:
        raise ConnectFailed(f"the dev stack only talks to {LOOPBACK}, not {url}")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    connection = http.client.HTTPConnection(LOOPBACK, parts.port, timeout=10)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, target, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    except OSError as error:
        raise ConnectFailed(f"{method} {parts.path}: {error}") from None
    finally:
        connection.close()


def authorize_url(api_base: str, api_key: str, platform: str) -> str:
    status, _, body = _request(
        "POST", f"{api_base}/v1/connections/{platform}/authorize", key=api_key
    )
    if status != 200:
        raise ConnectFailed(f"authorize answered {status}: {body.decode(errors='replace')}")
    return str(json.loads(body)["authorize_url"])


def consent(url: str) -> str:
    """Open the consent URL (the stand-in approves at once): where it redirects to."""
    status, headers, body = _request("GET", url)
    location = headers.get("Location")
    if status != 302 or not location:
        raise ConnectFailed(
            f"the consent screen answered {status}: {body.decode(errors='replace')}"
        )
    return location


def follow(url: str) -> tuple[int, dict]:
    """Open the consent URL and follow its redirect back to the callback: the callback's
    status and JSON."""
    status, _, body = _request("GET", consent(url))
    return status, json.loads(body) if body else {}


def connect(api_base: str, api_key: str, platform: str) -> tuple[int, dict]:
    return follow(authorize_url(api_base, api_key, platform))
