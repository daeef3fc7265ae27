"""The social platforms: one module each, the only code that speaks that platform's protocol,
both ways — webhook signature and handshake, parsing deliveries into domain events, status
maps, order parsing, outbound payloads and API calls. `http.py` holds what they share (JSON
over urllib3, and the platform's error translated into the domain's `PlatformError`).

Adding a platform: its module, and one entry in `PLATFORMS`. The webhook routes, the
consumers and publishing find it through this table.
"""

from functools import cached_property
from typing import Any

from ...config import Settings
from ...domain.connections import Platform
from .meta import Meta
from .pinterest import Pinterest
from .tiktok import TikTokShop
from .x import X

PLATFORMS: tuple[Any, ...] = (Meta, TikTokShop, X, Pinterest)

# The platforms that post webhooks to us, by the name in their route: /v1/webhooks/{name}.
WEBHOOK_SOURCES: dict[str, Any] = {p.name: p for p in PLATFORMS if p.receives_webhooks}


class PlatformDirectory:
    """Each platform's client, created on first use from settings and reused."""

    def __init__(self, settings: Settings):
        self._settings = settings
        self._clients: dict[str, Any] = {}

    def by_name(self, name: str) -> Any:
        if name not in self._clients:
            kind = next(p for p in PLATFORMS if p.name == name)
            self._clients[name] = kind(self._settings)
        return self._clients[name]

    @cached_property
    def _names(self) -> dict[Platform, str]:
        return {platform: p.name for p in PLATFORMS for platform in p.platforms}

    def for_platform(self, platform: Platform) -> Any:
        """The client that publishes to and reads from `platform` (Instagram: Meta's)."""
        return self.by_name(self._names[platform])

    # The views the services ask for (see services/social.py for what each must do).

    def webhook(self, source: str) -> Any:
        return self.by_name(source)

    def engagement(self, source: str) -> Any:
        return self.by_name(source)

    def publisher(self, platform: Platform) -> Any:
        return self.for_platform(platform)

    def order_lookup(self, source: str) -> Any:
        return self.by_name(source)

    def order_feed(self, source: str) -> Any:
        return self.by_name(source)
