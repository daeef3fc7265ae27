"""The composition root: settings, clients and repositories, each created on first use.

Warm Lambda invocations reuse them. Tests call `reset()` to start from fresh settings.
"""

from functools import cached_property
from typing import TYPE_CHECKING

from .adapters.dynamodb.catalog import CatalogRepository
from .adapters.dynamodb.connections import ConnectionRepository
from .adapters.dynamodb.merchants import MerchantRepository
from .adapters.dynamodb.posts import PostRepository
from .adapters.dynamodb.table import MainTable
from .adapters.system import SystemClock

if TYPE_CHECKING:
    from .config import Settings


class Runtime:
    def __init__(self, settings: "Settings | None" = None):
        self._settings = settings

    @cached_property
    def settings(self) -> "Settings":
        from .config import get_settings  # pydantic-settings costs start-up time; load on use

        return self._settings or get_settings()

    @cached_property
    def clock(self) -> SystemClock:
        return SystemClock()

    def boto_client(self, service: str):
        import boto3
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2)
        return boto3.session.Session().client(
            service,
            region_name=self.settings.region,
            endpoint_url=self.settings.aws_endpoint_url,
            config=config,
        )

    @cached_property
    def dynamodb(self):
        return self.boto_client("dynamodb")

    @cached_property
    def sqs(self):
        return self.boto_client("sqs")

    @cached_property
    def table(self) -> MainTable:
        return MainTable(self.dynamodb, self.settings.main_table)

    @cached_property
    def merchants(self) -> MerchantRepository:
        return MerchantRepository(self.table)

    @cached_property
    def catalog(self) -> CatalogRepository:
        return CatalogRepository(self.table)

    @cached_property
    def posts(self) -> PostRepository:
        return PostRepository(self.table)

    @cached_property
    def connections(self) -> ConnectionRepository:
        return ConnectionRepository(self.table)

    @cached_property
    def idempotency_store(self):
        from .adapters.dynamodb.idempotency import IdempotencyStore

        return IdempotencyStore(self.settings.main_table, self.dynamodb)


_current: Runtime | None = None


def runtime() -> Runtime:
    global _current
    if _current is None:
        _current = Runtime()
    return _current


def reset(settings: "Settings | None" = None) -> Runtime:
    """Forget every client and setting (tests, and the dev stack after it sets the environment)."""
    from .config import get_settings

    global _current
    get_settings.cache_clear()
    _current = Runtime(settings)
    return _current
