"""The social platforms: one module each, the only code that speaks that platform's protocol,
both ways — webhook signature and handshake, parsing deliveries into domain events, status
maps, order parsing, outbound payloads and API calls, and connecting a merchant's accounts
(OAuth 2.0: authorize, exchange, refresh, revoke). `http.py` holds what they share (JSON over
urllib3, and the platform's error translated into the domain's `PlatformError`).

Adding a platform: its module, one entry in `PLATFORMS` and one in `OAUTH`. The webhook
routes, the consumers, publishing and the connection routes find it through these tables.
"""

from collections.abc import Callable
from functools import cached_property
from typing import Any

from ...config import Settings
from ...domain.connections import AccountAccess, Connection, Platform
from .meta import Meta, MetaOAuth
from .pinterest import Pinterest, PinterestOAuth
from .tiktok import TikTokShop, TikTokShopOAuth
from .x import X, XOAuth

PLATFORMS: tuple[Any, ...] = (Meta, TikTokShop, X, Pinterest)

# Each platform's side of connecting accounts, by the same name.
OAUTH: dict[str, Any] = {
    Meta.name: MetaOAuth,
    TikTokShop.name: TikTokShopOAuth,
    X.name: XOAuth,
    Pinterest.name: PinterestOAuth,
}

# The platforms that post webhooks to us, by the name in their route: /v1/webhooks/{name}.
WEBHOOK_SOURCES: dict[str, Any] = {p.name: p for p in PLATFORMS if p.receives_webhooks}


class PlatformDirectory:
    """Each platform's client, created on first use from settings and reused; acting for a
    merchant's account, the same client with that account's token (`acting_as`), opened from
    its sealed grant on each use by `tokens`."""

    def __init__(self, settings: Settings, tokens: Callable[[Connection], AccountAccess]):
        self._settings = settings
        self._tokens = tokens
        self._clients: dict[str, Any] = {}
        self._oauth: dict[str, Any] = {}

    def by_name(self, name: str) -> Any:
        if name not in self._clients:
            kind = next(p for p in PLATFORMS if p.name == name)
            self._clients[name] = kind(self._settings)
        return self._clients[name]

    @cached_property
    def _names(self) -> dict[Platform, str]:
        return {platform: p.name for p in PLATFORMS for platform in p.platforms}

    def source_of(self, platform: Platform) -> str:
        """The module that speaks `platform`'s protocol (Instagram, Facebook: Meta's)."""
        return self._names[platform]

    def acting_as(self, connection: Connection) -> Any:
        """The platform's client acting for the connection's account, with its own token; a
        PlatformError if the connection cannot be used."""
        return self.by_name(self.source_of(connection.platform)).acting_as(self._tokens(connection))

    # The views the services ask for (see services/social.py and services/connections.py).

    def webhook(self, source: str) -> Any:
        return self.by_name(source)

    def oauth(self, source: str) -> Any:
        if source not in self._oauth:
            self._oauth[source] = OAUTH[source](self._settings)
        return self._oauth[source]

    def engagement(self, connection: Connection) -> Any:
        return self.acting_as(connection)

    def publisher(self, connection: Connection) -> Any:
        return self.acting_as(connection)

    def order_lookup(self, connection: Connection) -> Any:
        return self.acting_as(connection)

    def order_feed(self, connection: Connection) -> Any:
        return self.acting_as(connection)

    def channel(self, connection: Connection) -> Any:
        """The platform's catalog and stock (services/channels.py), as the connection."""
        return self.acting_as(connection)
