"""The social platforms' HTTP APIs and webhook signatures: one module per platform, the only
code that speaks each one's protocol. `http.py` holds what they share (JSON over urllib3, and
the platform's error translated into `PlatformError`)."""

from functools import cached_property


class Platforms:
    """The platforms' API clients, each created on first use from settings. Access tokens are
    per platform for now (settings, from the secret store in production); tokens per
    connection would come from the connection instead."""

    def __init__(self, settings):
        self._s = settings

    @cached_property
    def meta(self):
        from .meta import MetaGraph

        s = self._s
        token = s.meta_access_token.get_secret_value()
        return MetaGraph(s.meta_graph_url, token, s.platform_timeout_seconds)

    @cached_property
    def tiktok(self):
        from .tiktok import TikTokShop

        s = self._s
        return TikTokShop(
            s.tiktok_api_url,
            s.tiktok_app_key.get_secret_value(),
            s.tiktok_app_secret.get_secret_value(),
            s.tiktok_access_token.get_secret_value(),
            s.platform_timeout_seconds,
        )

    @cached_property
    def x(self):
        from .x import XApi

        s = self._s
        token = s.x_access_token.get_secret_value()
        return XApi(s.x_api_url, token, s.platform_timeout_seconds)

    @cached_property
    def pinterest(self):
        from .pinterest import Pinterest

        s = self._s
        token = s.pinterest_access_token.get_secret_value()
        return Pinterest(s.pinterest_api_url, token, s.platform_timeout_seconds)
