"""The composition root: the one place that chooses what implements each port.

Settings, AWS clients and stores are created on first use and reused by warm invocations.
Each area of the service layer gets one typed bundle of what it needs (`catalog`, `posts`,
`sales`, `payments`, `social`, `connections`, `merchants`, …) and never the runtime itself;
the vault is reached through its client. There are two clients, by who proves the caller:
`vault`, the API edge's (its routes have checked the API key), and `worker_vault`, the queue
consumers' and schedules' (the vault lets them identify and describe only). The areas the
consumers and schedules use (`worker_sales`, `social`, `ingest_handlers`) are built on the
worker's. Tests call `reset()` to start from fresh settings, and may hand in other
implementations by replacing a store before the first area is built.

Every Lambda function imports this module, but each wires only its part: a property imports
what it builds, so the vault function never loads the platforms or the sale's services, and a
consumer handling a Stripe event never builds the social area.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .adapters.system import KeyedDigests, SystemClock
from .config import Settings, get_settings

if TYPE_CHECKING:
    from .adapters.dynamodb.catalog import CatalogRepository
    from .adapters.dynamodb.channels import ListingRepository
    from .adapters.dynamodb.checkout_settings import CheckoutSettingsRepository
    from .adapters.dynamodb.connections import ConnectionRepository
    from .adapters.dynamodb.creators import CreatorRepository, ReferralRepository
    from .adapters.dynamodb.customer_refs import CustomerReferences
    from .adapters.dynamodb.idempotency import IdempotencyStore
    from .adapters.dynamodb.inbox import InboxRepository
    from .adapters.dynamodb.merchants import MerchantRepository
    from .adapters.dynamodb.orders import OrderRepository
    from .adapters.dynamodb.posts import PostRepository
    from .adapters.dynamodb.settings import SettingsRepository
    from .adapters.dynamodb.table import MainTable
    from .adapters.dynamodb.webhooks import WebhookReceipts
    from .adapters.platform_tokens import TokenSealer
    from .adapters.platforms import PlatformDirectory
    from .adapters.sqs import Queue
    from .adapters.stripe import StripePayments
    from .consumers import Handler
    from .domain.events import Message
    from .domain.outbound import Event
    from .services.analytics import Analytics
    from .services.catalog import Catalog
    from .services.channels import Channels
    from .services.connections import Connections
    from .services.creators import Creators
    from .services.customers import Customers
    from .services.merchants import Merchants
    from .services.orders import Sales
    from .services.outbound import Outbound
    from .services.payments import Payments
    from .services.posts import Posts
    from .services.shop_settings import ShopSettings
    from .services.social import Social
    from .vault.assertions import Issuer
    from .vault.client import VaultClient
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
    def table(self) -> "MainTable":
        from .adapters.dynamodb.table import MainTable

        return MainTable(self.dynamodb, self.settings.main_table)

    @cached_property
    def merchant_store(self) -> "MerchantRepository":
        from .adapters.dynamodb.merchants import MerchantRepository

        return MerchantRepository(self.table)

    @cached_property
    def checkout_settings_store(self) -> "CheckoutSettingsRepository":
        from .adapters.dynamodb.checkout_settings import CheckoutSettingsRepository

        return CheckoutSettingsRepository(self.table)

    @cached_property
    def product_store(self) -> "CatalogRepository":
        from .adapters.dynamodb.catalog import CatalogRepository

        return CatalogRepository(self.table)

    @cached_property
    def listing_store(self) -> "ListingRepository":
        from .adapters.dynamodb.channels import ListingRepository

        return ListingRepository(self.table)

    @cached_property
    def post_store(self) -> "PostRepository":
        from .adapters.dynamodb.posts import PostRepository

        return PostRepository(self.table)

    @cached_property
    def connection_store(self) -> "ConnectionRepository":
        from .adapters.dynamodb.connections import ConnectionRepository
        from .adapters.dynamodb.table import MainTable

        keys_table = MainTable(self.dynamodb, self.settings.platform_token_keys_table)
        return ConnectionRepository(self.table, keys_table, lambda: self.token_sealer)

    @cached_property
    def token_sealer(self) -> "TokenSealer":
        """Seals and opens the merchants' platform tokens: built on the first one opened."""
        from .adapters.kms import KmsKeys
        from .adapters.platform_tokens import TokenSealer
        from .vault.keyring import DataKeyCache, DataKeys

        s = self.settings
        return TokenSealer(
            DataKeys(
                KmsKeys(self.kms, s.platform_tokens_key_id),
                DataKeyCache(s.platform_token_cache_seconds),
            )
        )

    @cached_property
    def settings_store(self) -> "SettingsRepository":
        from .adapters.dynamodb.settings import SettingsRepository

        return SettingsRepository(self.table)

    @cached_property
    def order_store(self) -> "OrderRepository":
        from .adapters.dynamodb.orders import OrderRepository

        return OrderRepository(self.table)

    @cached_property
    def inbox_store(self) -> "InboxRepository":
        from .adapters.dynamodb.inbox import InboxRepository

        return InboxRepository(self.table, self.settings.inbox_retention_days)

    @cached_property
    def customer_references(self) -> "CustomerReferences":
        from .adapters.dynamodb.customer_refs import CustomerReferences

        return CustomerReferences(self.table)

    @cached_property
    def creator_store(self) -> "CreatorRepository":
        from .adapters.dynamodb.creators import CreatorRepository

        return CreatorRepository(self.table)

    @cached_property
    def referral_store(self) -> "ReferralRepository":
        from .adapters.dynamodb.creators import ReferralRepository

        return ReferralRepository(self.table)

    @cached_property
    def webhook_receipts(self) -> "WebhookReceipts":
        from .adapters.dynamodb.webhooks import WebhookReceipts

        return WebhookReceipts(self.table)

    @cached_property
    def idempotency(self) -> "IdempotencyStore":
        from .adapters.dynamodb.idempotency import IdempotencyStore

        s = self.settings
        return IdempotencyStore(s.main_table, self.dynamodb, s.idempotency_ttl_seconds)

    @cached_property
    def ingest_queue(self) -> "Queue":
        from .adapters.sqs import Queue

        return Queue(self.sqs, self.settings.ingest_queue)

    @cached_property
    def webhook_queue(self) -> "Queue":
        from .adapters.sqs import Queue

        return Queue(self.sqs, self.settings.webhook_queue)

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
    def platforms(self) -> "PlatformDirectory":
        from .adapters.platforms import PlatformDirectory

        return PlatformDirectory(self.settings, self.connection_store.access_for)

    @cached_property
    def vault(self) -> "VaultClient":
        """The API edge's way into the vault: its assertions carry the checked key's
        merchant and scopes."""
        from .vault.assertions import Issuer

        return self._vault_client(Issuer.EDGE)

    @cached_property
    def worker_vault(self) -> "VaultClient":
        """The consumers' and schedules' way into the vault: identify and describe only."""
        from .vault.assertions import Issuer

        return self._vault_client(Issuer.WORKER)

    def _vault_client(self, issuer: "Issuer") -> "VaultClient":
        """The vault's own function when `vault_function` is set (so only that function's
        role can decrypt), else the same handler in-process; either way every command goes
        with an assertion minted with this issuer's key."""
        import time

        from .vault.assertions import Issuer, Minter
        from .vault.client import InProcess, LambdaInvoke, VaultClient

        setting = {Issuer.EDGE: "edge_caller_key", Issuer.WORKER: "worker_caller_key"}[issuer]
        minter = Minter(issuer, lambda: self._secret_key(setting), time.time)
        if self.settings.vault_function:
            transport = LambdaInvoke(self.boto_client("lambda"), self.settings.vault_function)
            return VaultClient(transport, minter)
        return VaultClient(InProcess(lambda: self.vault_backend), minter)

    def _secret_key(self, setting: str) -> bytes:
        from .vault.assertions import key_from

        value = getattr(self.settings, setting)
        return key_from(value.get_secret_value() if value else None, f"SHOPPABLE_{setting.upper()}")

    @cached_property
    def vault_backend(self) -> "Vault":
        """The vault itself: built only where it runs, on its first command."""
        from .adapters.kms import KmsKeys
        from .vault.assertions import Issuer
        from .vault.blind_index import index_key_from
        from .vault.keyring import DataKeyCache, DataKeys
        from .vault.service import Vault
        from .vault.store import VaultStore

        s = self.settings
        index_key = s.vault_index_key.get_secret_value() if s.vault_index_key else None
        return Vault(
            VaultStore(self.dynamodb, s.vault_table, s.vault_keys_table, s.main_table),
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
    def merchants(self) -> "Merchants":
        from .services.merchants import Merchants

        return Merchants(self.merchant_store, self.clock, live=self.settings.live)

    @cached_property
    def customers(self) -> "Customers":
        from .services.customers import Customers

        return Customers(self.vault, self.customer_references)

    @cached_property
    def shop_settings(self) -> "ShopSettings":
        from .services.shop_settings import ShopSettings

        return ShopSettings(self.checkout_settings_store)

    @cached_property
    def catalog(self) -> "Catalog":
        from .services.catalog import Catalog

        return Catalog(self.product_store, self.clock, self.listing_store)

    @cached_property
    def posts(self) -> "Posts":
        from .services.posts import Posts

        return Posts(
            self.post_store,
            self.product_store,
            self.clock,
            self.settings.max_tags_per_post,
            creators=self.creator_store,
        )

    @cached_property
    def sales(self) -> "Sales":
        """Sales as the API's routes run them (the edge's vault client)."""
        return self._sales(self.vault)

    @cached_property
    def worker_sales(self) -> "Sales":
        """Sales as the consumers and schedules run them (the worker's vault client)."""
        return self._sales(self.worker_vault)

    def _sales(self, vault: "VaultClient") -> "Sales":
        from .services.orders import Sales

        return Sales(
            orders=self.order_store,
            products=self.product_store,
            posts=self.post_store,
            payments=self.stripe,
            vault=vault,
            clock=self.clock,
            limits=self.checkout_settings_store,
            digests=self.digests,
            reservation_minutes=self.settings.reservation_minutes,
            stack_id=self.settings.stack_name,
            event_wait_attempts=min(self.settings.event_wait_attempts, _ingest_receives() - 1),
            referrals=self.referral_store,
            attribution_window=timedelta(days=self.settings.attribution_window_days),
        )

    @cached_property
    def payments(self) -> "Payments":
        from .services.payments import Payments

        return Payments(self.stripe, self.webhook_receipts, self.ingest_queue, self.clock)

    @cached_property
    def social(self) -> "Social":
        from .services.social import Social, SocialSettings

        s = self.settings
        return Social(
            platforms=self.platforms,
            connections=self.connection_store,
            merchant_settings=self.settings_store,
            posts=self.post_store,
            products=self.product_store,
            inbox=self.inbox_store,
            receipts=self.webhook_receipts,
            queue=self.ingest_queue,
            vault=self.worker_vault,
            sales=self.worker_sales,
            clock=self.clock,
            channels=self.channels,
            settings=SocialSettings(
                storefront_url=s.storefront_url,
                publish_max_attempts=s.publish_max_attempts,
                publish_retry_seconds=s.publish_retry_seconds,
            ),
        )

    @cached_property
    def channels(self) -> "Channels":
        from .adapters.dynamodb import outbox
        from .services.channels import Channels

        return Channels(
            listings=self.listing_store,
            products=self.product_store,
            connections=self.connection_store,
            merchant_settings=self.settings_store,
            platforms=self.platforms,
            stream=outbox,
            queue=self.ingest_queue,
            clock=self.clock,
            storefront_url=self.settings.storefront_url,
            reconcile_every=timedelta(minutes=self.settings.channel_reconcile_minutes),
        )

    @cached_property
    def connections(self) -> "Connections":
        from .services.connections import Connections, ConnectionSettings

        s = self.settings
        return Connections(
            store=self.connection_store,
            platforms=self.platforms,
            meta=self.platforms.oauth("meta"),
            clock=self.clock,
            settings=ConnectionSettings(
                public_api_url=s.public_api_url,
                state_secret=s.oauth_state_secret.get_secret_value().encode(),
                state_minutes=s.oauth_state_minutes,
            ),
        )

    @cached_property
    def outbound(self) -> "Outbound":
        from .adapters import webhook_http
        from .adapters.dynamodb import outbox
        from .adapters.dynamodb.outbound import (
            DeliveryRepository,
            EndpointRepository,
            EventRepository,
        )
        from .adapters.kms import SealedSecrets
        from .services.outbound import Outbound, OutboundSettings

        s = self.settings
        return Outbound(
            events=EventRepository(self.table),
            endpoints=EndpointRepository(self.table),
            deliveries=DeliveryRepository(self.table),
            stream=outbox,
            queue=self.webhook_queue,
            sender=webhook_http.WebhookSender(s.webhook_local_urls, s.webhook_timeout_seconds),
            secrets=SealedSecrets(self.kms, s.webhook_key_id),
            clock=self.clock,
            settings=OutboundSettings(
                allow_http=s.webhook_local_urls,
                retry_schedule=tuple(s.webhook_retry_seconds),
                disable_after=timedelta(hours=s.webhook_disable_after_hours),
            ),
        )

    @cached_property
    def creators(self) -> "Creators":
        from .adapters.dynamodb.creators import CommissionLedger
        from .services.creators import Creators, CreatorSettings

        return Creators(
            creators=self.creator_store,
            referrals=self.referral_store,
            ledger=CommissionLedger(self.table),
            orders=self.order_store,
            posts=self.post_store,
            vault=self.vault,
            clock=self.clock,
            settings=CreatorSettings(
                storefront_url=self.settings.storefront_url,
                hold_days=self.settings.commission_hold_days,
            ),
        )

    @cached_property
    def analytics(self) -> "Analytics":
        from .adapters.dynamodb.funnel import FunnelRepository
        from .services.analytics import Analytics

        return Analytics(
            funnel=FunnelRepository(self.table),
            posts=self.post_store,
            referrals=self.referral_store,
            merchants=self.merchant_store,
            clock=self.clock,
            daily_cap=self.settings.funnel_daily_cap,
        )

    @cached_property
    def event_consumers(self) -> list[Callable[["Event"], None]]:
        """Our own consumers of the outbox's events, after each is published: the funnel's
        counters and the creators' commission ledger (each idempotent on the event)."""
        from .services import analytics, creators

        return [
            lambda event: analytics.funnel_on_order_event(self.analytics, event),
            lambda event: creators.commission_on_order_event(self.creators, event),
        ]

    @cached_property
    def webhook_handlers(self) -> dict[str, "Handler"]:
        """The webhook queue's consumer: one delivery attempt per message."""
        from .services import outbound

        return {outbound.DELIVERY_JOB: lambda job: outbound.attempt_delivery(self.outbound, job)}

    # The ingest queue's consumer

    @cached_property
    def ingest_handlers(self) -> dict[str, "Handler"]:
        """Message type -> the service that handles it, with its area's dependencies. Each
        entry builds its area on its first message."""
        from .services import channels, engagement, payments, platform_orders, publishing
        from .services.connections import account_deauthorized
        from .services.social import routed

        def with_sales(handle: Callable[["Sales", "Message"], None]) -> "Handler":
            return lambda message: handle(self.worker_sales, message)

        def with_social(handle: Callable[["Social", "Message"], None]) -> "Handler":
            return lambda message: handle(self.social, message)

        handlers = {f"stripe.{kind}": with_sales(h) for kind, h in payments.HANDLERS.items()}
        handlers["platform.engagement"] = with_social(routed(engagement.engagement_received))
        handlers["platform.order_status_change"] = with_social(
            routed(platform_orders.order_status_changed)
        )
        handlers["platform.cancellation_change"] = with_social(
            routed(platform_orders.cancellation_changed)
        )
        handlers["platform.deauthorization"] = with_social(routed(account_deauthorized))
        handlers[publishing.JOB] = with_social(publishing.publish_job)
        handlers[channels.LIST_JOB] = lambda m: channels.list_product_job(self.channels, m)
        handlers[channels.STOCK_JOB] = lambda m: channels.push_stock_job(self.channels, m)
        handlers[channels.LIST_ALL_JOB] = lambda m: channels.list_catalog_job(self.channels, m)
        return handlers


def _ingest_receives() -> int:
    """The delivery on which the ingest queue dead-letters a message: handlers that wait for
    what is not visible yet must stop before it."""
    from .resources import QUEUES  # the resource definitions: not needed at start-up

    return next(q.max_receive_count for q in QUEUES if q.setting == "ingest_queue")


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
