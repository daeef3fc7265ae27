"""The composition root: the one place that chooses what implements each port.

Settings, AWS clients and stores are created on first use and reused by warm invocations.
Each area of the service layer gets one typed bundle of what it needs (`catalog`, `posts`,
`sales`, `payments`, `social`, `merchants`) and never the runtime itself; the vault is reached
through its client. There are two clients, by who proves the caller: `vault`, the API edge's
(its routes have checked the API key), and `worker_vault`, the queue consumers' and
schedules' (the vault lets them identify and describe only). The areas the consumers and
schedules use (`worker_sales`, `social`, `ingest_handlers`) are built on the worker's. Tests
call `reset()` to start from fresh settings, and may hand in other implementations by
replacing a store before the first area is built.
"""

from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

from .adapters.dynamodb.catalog import CatalogRepository
from .adapters.dynamodb.connections import ConnectionRepository
from .adapters.dynamodb.customer_refs import CustomerReferences
from .adapters.dynamodb.idempotency import IdempotencyStore
from .adapters.dynamodb.inbox import InboxRepository
from .adapters.dynamodb.merchants import MerchantRepository
from .adapters.dynamodb.orders import OrderRepository
from .adapters.dynamodb.posts import PostRepository
from .adapters.dynamodb.settings import SettingsRepository
from .adapters.dynamodb.table import MainTable
from .adapters.dynamodb.webhooks import WebhookReceipts
from .adapters.platforms import PlatformDirectory
from .adapters.sqs import Queue
from .adapters.system import KeyedDigests, SystemClock
from .config import Settings, get_settings
from .consumers import Handler
from .services import engagement, payments, platform_orders, publishing
from .services.catalog import Catalog
from .services.customers import Customers
from .services.merchants import Merchants
from .services.orders import Sales
from .services.payments import Payments
from .services.posts import Posts
from .services.shop_settings import ShopSettings
from .services.social import Social, SocialSettings, routed
from .vault.assertions import Issuer, Minter, key_from
from .vault.client import InProcess, LambdaInvoke, VaultClient

if TYPE_CHECKING:
    from .adapters.stripe import StripePayments
    from .vault.service import Vault


class Runtime:
    def __init__(self, settings: Settings | None = None):
        self._settings = settings

    @cached_property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    @cached_property
    def clock(self) -> SystemClock:
        return SystemClock()

    @cached_property
    def digests(self) -> KeyedDigests:
        return KeyedDigests(lambda: self._secret_key("request_digest_key"))

    # AWS clients

    def boto_client(self, service: str) -> Any:
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
    def dynamodb(self) -> Any:
        return self.boto_client("dynamodb")

    @cached_property
    def sqs(self) -> Any:
        return self.boto_client("sqs")

    @cached_property
    def kms(self) -> Any:
        return self.boto_client("kms")

    # Stores and vendors

    @cached_property
    def table(self) -> MainTable:
        return MainTable(self.dynamodb, self.settings.main_table)

    @cached_property
    def merchant_store(self) -> MerchantRepository:
        return MerchantRepository(self.table)

    @cached_property
    def settings_store(self) -> SettingsRepository:
        return SettingsRepository(self.table)

    @cached_property
    def product_store(self) -> CatalogRepository:
        return CatalogRepository(self.table)

    @cached_property
    def post_store(self) -> PostRepository:
        return PostRepository(self.table)

    @cached_property
    def connection_store(self) -> ConnectionRepository:
        return ConnectionRepository(self.table)

    @cached_property
    def order_store(self) -> OrderRepository:
        return OrderRepository(self.table)

    @cached_property
    def inbox_store(self) -> InboxRepository:
        return InboxRepository(self.table, self.settings.inbox_retention_days)

    @cached_property
    def customer_references(self) -> CustomerReferences:
        return CustomerReferences(self.table)

    @cached_property
    def webhook_receipts(self) -> WebhookReceipts:
        return WebhookReceipts(self.table)

    @cached_property
    def idempotency(self) -> IdempotencyStore:
        s = self.settings
        return IdempotencyStore(s.main_table, self.dynamodb, s.idempotency_ttl_seconds)

    @cached_property
    def ingest_queue(self) -> Queue:
        return Queue(self.sqs, self.settings.ingest_queue)

    @cached_property
    def events_queue(self) -> Queue:
        return Queue(self.sqs, self.settings.events_queue)

    @cached_property
    def stripe(self) -> "StripePayments":
        from .adapters.stripe import StripePayments  # the stripe SDK loads with its first call

        s = self.settings
        return StripePayments(
            s.stripe_api_key.get_secret_value(),
            s.stripe_api_base,
            s.stripe_webhook_secret.get_secret_value(),
        )

    @cached_property
    def platforms(self) -> PlatformDirectory:
        return PlatformDirectory(self.settings)

    @cached_property
    def vault(self) -> VaultClient:
        """The API edge's way into the vault: its assertions carry the checked key's
        merchant and scopes."""
        return self._vault_client(Issuer.EDGE)

    @cached_property
    def worker_vault(self) -> VaultClient:
        """The consumers' and schedules' way into the vault: identify and describe only."""
        return self._vault_client(Issuer.WORKER)

    def _vault_client(self, issuer: Issuer) -> VaultClient:
        """The vault's own function when `vault_function` is set (so only that function's
        role can decrypt), else the same handler in-process; either way every command goes
        with an assertion minted with this issuer's key."""
        import time

        setting = {Issuer.EDGE: "edge_caller_key", Issuer.WORKER: "worker_caller_key"}[issuer]
        minter = Minter(issuer, lambda: self._secret_key(setting), time.time)
        if self.settings.vault_function:
            transport = LambdaInvoke(self.boto_client("lambda"), self.settings.vault_function)
            return VaultClient(transport, minter)
        return VaultClient(InProcess(lambda: self.vault_backend), minter)

    def _secret_key(self, setting: str) -> bytes:
        value = getattr(self.settings, setting)
        return key_from(value.get_secret_value() if value else None, f"SHOPPABLE_{setting.upper()}")

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
            {
                Issuer.EDGE: self._secret_key("edge_caller_key"),
                Issuer.WORKER: self._secret_key("worker_caller_key"),
            },
        )

    # The areas: what each part of the service layer gets

    @cached_property
    def merchants(self) -> Merchants:
        return Merchants(self.merchant_store, self.clock, live=self.settings.live)

    @cached_property
    def customers(self) -> Customers:
        return Customers(self.vault, self.customer_references)

    @cached_property
    def shop_settings(self) -> ShopSettings:
        return ShopSettings(self.settings_store)

    @cached_property
    def catalog(self) -> Catalog:
        return Catalog(self.product_store, self.clock)

    @cached_property
    def posts(self) -> Posts:
        return Posts(
            self.post_store, self.product_store, self.clock, self.settings.max_tags_per_post
        )

    @cached_property
    def sales(self) -> Sales:
        """Sales as the API's routes run them (the edge's vault client)."""
        return self._sales(self.vault)

    @cached_property
    def worker_sales(self) -> Sales:
        """Sales as the consumers and schedules run them (the worker's vault client)."""
        return self._sales(self.worker_vault)

    def _sales(self, vault: VaultClient) -> Sales:
        return Sales(
            orders=self.order_store,
            products=self.product_store,
            posts=self.post_store,
            payments=self.stripe,
            vault=vault,
            events=self.events_queue,
            clock=self.clock,
            limits=self.settings_store,
            digests=self.digests,
            reservation_minutes=self.settings.reservation_minutes,
        )

    @cached_property
    def payments(self) -> Payments:
        return Payments(self.stripe, self.webhook_receipts, self.ingest_queue, self.clock)

    @cached_property
    def social(self) -> Social:
        s = self.settings
        return Social(
            platforms=self.platforms,
            connections=self.connection_store,
            posts=self.post_store,
            products=self.product_store,
            inbox=self.inbox_store,
            receipts=self.webhook_receipts,
            queue=self.ingest_queue,
            vault=self.worker_vault,
            sales=self.worker_sales,
            clock=self.clock,
            settings=SocialSettings(
                comment_keywords=s.comment_keywords,
                storefront_url=s.storefront_url,
                publish_max_attempts=s.publish_max_attempts,
                publish_retry_seconds=s.publish_retry_seconds,
                meta_commerce_accounts=s.meta_commerce_accounts,
            ),
        )

    # The ingest queue's consumer

    @cached_property
    def ingest_handlers(self) -> dict[str, Handler]:
        """Message type -> the service that handles it, with its area's dependencies."""
        sales, social = self.worker_sales, self.social
        handlers: dict[str, Handler] = {
            f"stripe.{kind}": partial(handle, sales) for kind, handle in payments.HANDLERS.items()
        }
        handlers["platform.engagement"] = partial(routed(engagement.engagement_received), social)
        handlers["platform.order_status_change"] = partial(
            routed(platform_orders.order_status_changed), social
        )
        handlers[publishing.JOB] = partial(publishing.publish_job, social)
        return handlers


_current: Runtime | None = None


def runtime() -> Runtime:
    global _current
    if _current is None:
        _current = Runtime()
    return _current


def reset(settings: Settings | None = None) -> Runtime:
    """Forget every client and setting (tests, and the dev stack after it sets the environment)."""
    global _current
    get_settings.cache_clear()
    _current = Runtime(settings)
    return _current
