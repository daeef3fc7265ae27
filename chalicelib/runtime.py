"""The composition root: settings, clients and repositories, each created on first use.

Warm Lambda invocations reuse them. Tests call `reset()` to start from fresh settings.
"""

from functools import cached_property
from typing import TYPE_CHECKING

from .adapters.dynamodb.catalog import CatalogRepository
from .adapters.dynamodb.connections import ConnectionRepository
from .adapters.dynamodb.merchants import MerchantRepository
from .adapters.dynamodb.orders import OrderRepository
from .adapters.dynamodb.posts import PostRepository
from .adapters.dynamodb.table import MainTable
from .adapters.dynamodb.webhooks import WebhookReceipts
from .adapters.sqs import Queue
from .adapters.system import SystemClock

if TYPE_CHECKING:
    from .config import Settings
    from .vault.client import VaultClient
    from .vault.service import Vault


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
    def orders(self) -> OrderRepository:
        return OrderRepository(self.table)

    @cached_property
    def inbox(self):
        from .adapters.dynamodb.inbox import InboxRepository

        return InboxRepository(self.table)

    @cached_property
    def webhook_receipts(self) -> WebhookReceipts:
        return WebhookReceipts(self.table)

    @cached_property
    def ingest_queue(self) -> Queue:
        return Queue(self.sqs, self.settings.ingest_queue)

    @cached_property
    def events_queue(self) -> Queue:
        return Queue(self.sqs, self.settings.events_queue)

    @cached_property
    def payments(self):
        from .adapters.stripe import StripePayments

        return StripePayments(
            self.settings.stripe_api_key.get_secret_value(),
            self.settings.stripe_api_base,
            self.settings.stripe_webhook_secret.get_secret_value(),
        )

    @cached_property
    def platforms(self):
        """The social platforms' API clients (chalicelib/adapters/platforms)."""
        from .adapters.platforms import Platforms

        return Platforms(self.settings)

    @cached_property
    def kms(self):
        return self.boto_client("kms")

    @cached_property
    def vault(self) -> "VaultClient":
        """The one way into the vault: its own function when `vault_function` is set (so only
        that function's role can decrypt), else the same handler in-process."""
        from .vault.client import InProcess, LambdaInvoke, VaultClient

        if self.settings.vault_function:
            return VaultClient(
                LambdaInvoke(self.boto_client("lambda"), self.settings.vault_function)
            )
        return VaultClient(InProcess(lambda: self.vault_backend))

    @cached_property
    def vault_backend(self) -> "Vault":
        """The vault itself: built only where it runs, on its first command."""
        from .adapters.kms import KmsKeys
        from .vault.blind_index import index_key_from
        from .vault.keyring import DataKeyCache, DataKeys
        from .vault.service import Vault
        from .vault.store import VaultStore

        s = self.settings
        index_key = s.vault_index_key.get_secret_value() if s.vault_index_key else None
        return Vault(
            VaultStore(self.dynamodb, s.vault_table, s.vault_keys_table),
            DataKeys(KmsKeys(self.kms, s.vault_key_id), DataKeyCache(s.vault_key_cache_seconds)),
            self.clock,
            index_key_from(index_key),
        )

    @cached_property
    def sales(self):
        from .services.orders import Sales

        return Sales(
            orders=self.orders,
            catalog=self.catalog,
            posts=self.posts,
            payments=self.payments,
            vault=self.vault,
            events=self.events_queue,
            clock=self.clock,
            reservation_minutes=self.settings.reservation_minutes,
        )

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
