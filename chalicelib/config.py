"""Settings from the environment, read once on first use (never at import).

Every name is `SHOPPABLE_<FIELD>` in upper case; the README's configuration table lists them.
The AWS SDK reads its own variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).
"""

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .domain.outbound import DELIVERY_TIMEOUT_SECONDS, RETRY_SCHEDULE_SECONDS


# Marks on the fields that name a deployed resource or hold a secret. `infra/build.py` puts
# each resource in the stack and each secret in the Secrets Manager secret named here, and
# tests/integration/test_infra_settings.py checks that every marked field reaches a function.
def _resource(kind: str) -> dict:
    return {"resource": kind}  # table, queue, key or function


def _secret(owner: str) -> dict:
    return {"resource": "secret", "secret": owner}  # stripe, platforms, connections or vault


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPPABLE_", extra="ignore", defer_build=True)

    stage: str = "dev"
    # Stages that take payments: they accept only `sk_live_` API keys, every other stage
    # only `sk_test_` keys.
    live_stages: Annotated[list[str], NoDecode] = ["prod", "production", "live"]
    region: str = Field("us-east-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")

    main_table: str = Field("shoppable-main", json_schema_extra=_resource("table"))
    ingest_queue: str = Field("shoppable-ingest", json_schema_extra=_resource("queue"))
    # Attempts to deliver events to merchants' webhook endpoints (services/outbound.py).
    webhook_queue: str = Field("shoppable-webhooks", json_schema_extra=_resource("queue"))

    # Checkout and payments
    reservation_minutes: int = 30
    # Marks this stack's PaymentIntents, so that Stripe events of other stacks sharing the
    # Stripe account are told apart at once; empty: `shoppable-<stage>-<region>`.
    stack_id: str = ""
    # How many deliveries of a Stripe event may wait for the order it names to be readable
    # (kept below the ingest queue's receive count, so that waiting never dead-letters it).
    event_wait_attempts: int = Field(4, ge=1)
    stripe_api_key: SecretStr = Field(
        SecretStr("sk_test_dev"),
        validation_alias="STRIPE_API_KEY",
        json_schema_extra=_secret("stripe"),
    )
    stripe_api_base: str | None = Field(None, validation_alias="STRIPE_API_BASE")
    stripe_webhook_secret: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("stripe"))
    # What the demo page hands the storefront widget: the publishable key (public by design)
    # and where Stripe.js comes from (localstripe's stand-in in `make run`).
    stripe_publishable_key: str = ""
    stripe_js_url: str = "https://js.stripe.com/v3/"

    # Vault
    vault_table: str = Field("shoppable-vault", json_schema_extra=_resource("table"))
    vault_keys_table: str = Field("shoppable-vault-keys", json_schema_extra=_resource("table"))
    # KMS key id, ARN or alias
    vault_key_id: str = Field("alias/shoppable-vault", json_schema_extra=_resource("key"))
    # base64 of >= 32 random bytes; read only where the vault runs (the vault function)
    vault_index_key: SecretStr | None = Field(None, json_schema_extra=_secret("vault"))
    # the vault function's name; unset, the vault runs in-process (tests, `make run`)
    vault_function: str | None = Field(None, json_schema_extra=_resource("function"))
    vault_key_cache_seconds: int = 60
    # Caller assertions (chalicelib/vault/assertions.py): HMAC keys, base64 of >= 32 bytes.
    # The API edge mints with the first, the queue consumers and schedules with the second;
    # the vault function reads both to verify. Each is readable only by those roles.
    edge_caller_key: SecretStr | None = Field(None, json_schema_extra=_secret("edge_caller"))
    worker_caller_key: SecretStr | None = Field(None, json_schema_extra=_secret("worker_caller"))
    # The API's keyed digests (base64 of >= 32 bytes): Idempotency-Key fingerprints and
    # scopes, checkout hold counters. Nothing stored from a request is a bare hash of it.
    request_digest_key: SecretStr | None = Field(None, json_schema_extra=_secret("request_digest"))

    # Social platforms: the apps' own secrets (webhook signatures, OAuth clients) and API base
    # URLs (a local stand-in in tests and `make run`). No merchant's token is a setting: each
    # connection has its own, sealed (README "Connecting a merchant's accounts").
    meta_app_id: str = ""
    meta_app_secret: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("platforms"))
    meta_verify_token: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("platforms"))
    tiktok_app_key: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("platforms"))
    tiktok_app_secret: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("platforms"))
    tiktok_service_id: str = ""
    x_consumer_secret: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("platforms"))
    x_client_id: str = ""
    x_client_secret: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("platforms"))
    pinterest_app_id: str = ""
    pinterest_app_secret: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("platforms"))
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    tiktok_api_url: str = "https://open-api.tiktokglobalshop.com"
    pinterest_api_url: str = "https://api.pinterest.com"
    x_api_url: str = "https://api.x.com"
    # Where each platform's consent screen is, and what we ask for there
    meta_authorize_url: str = "https://www.facebook.com/v21.0/dialog/oauth"
    # Facebook Login for Business: the configuration's id replaces `scope` when set
    meta_login_config_id: str = ""
    meta_scopes: Annotated[list[str], NoDecode] = [
        "pages_show_list",
        "pages_read_engagement",
        "pages_manage_metadata",
        "pages_messaging",
        "instagram_basic",
        "instagram_content_publish",
        "instagram_manage_comments",
        "instagram_manage_messages",
        "business_management",
        # channels: the merchant's catalog, and product tags on Instagram posts
        "catalog_management",
        "instagram_shopping_tag_products",
    ]
    tiktok_authorize_url: str = "https://services.tiktokshop.com/open/authorize"
    tiktok_auth_url: str = "https://auth.tiktok-shops.com"
    x_authorize_url: str = "https://x.com/i/oauth2/authorize"
    x_scopes: Annotated[list[str], NoDecode] = [
        "tweet.read",
        "tweet.write",
        "users.read",
        "dm.read",
        "dm.write",
        "offline.access",
    ]
    pinterest_authorize_url: str = "https://www.pinterest.com/oauth/"
    pinterest_scopes: Annotated[list[str], NoDecode] = [
        "user_accounts:read",
        "boards:read",
        "pins:read",
        "pins:write",
        "catalogs:read",
        "catalogs:write",
    ]
    # Connecting accounts: the API's public URL (redirect URIs are
    # `<public_api_url>/v1/connections/<platform>/callback`), the key that signs the OAuth
    # `state`, and the KMS key that wraps each grant's data key.
    public_api_url: str = ""
    oauth_state_secret: SecretStr = Field(SecretStr(""), json_schema_extra=_secret("connections"))
    oauth_state_minutes: int = 10
    platform_tokens_key_id: str = Field(
        "alias/shoppable-platform-tokens", json_schema_extra=_resource("key")
    )
    platform_token_keys_table: str = Field(
        "shoppable-platform-token-keys", json_schema_extra=_resource("table")
    )
    platform_token_cache_seconds: int = 60
    storefront_url: str = "https://shop.example.com"
    inbox_retention_days: int = 90  # comments and messages go after this (and on erasure)
    publish_max_attempts: int = 5
    publish_retry_seconds: int = 30  # doubled at each attempt, at most 900 (SQS's limit)
    # how long after a listing was written or checked the reconciliation reads it back
    channel_reconcile_minutes: int = 30
    platform_timeout_seconds: float = 5.0

    # Outbound webhooks (Standard Webhooks). Signing secrets are encrypted under this key.
    webhook_key_id: str = Field("alias/shoppable-webhooks", json_schema_extra=_resource("key"))
    # Dev only (the build refuses it for a deployed stack): endpoints are on this machine
    # (loopback), http allowed. Otherwise https only, public addresses only (SSRF).
    webhook_local_urls: bool = False
    # Seconds before each retry after a failed attempt (jitter adds up to 20%).
    webhook_retry_seconds: Annotated[list[int], NoDecode] = list(RETRY_SCHEDULE_SECONDS)
    # An endpoint failing every attempt for this long is disabled (and the merchant told).
    webhook_disable_after_hours: float = Field(120.0, gt=0)
    webhook_timeout_seconds: float = Field(DELIVERY_TIMEOUT_SECONDS, gt=0, le=15)

    # Creators: how long after a click on a creator's link a checkout is still theirs, how
    # long commissions are held before they mature, and how many views (and as many clicks)
    # one funnel cell counts a day (the beacon is public).
    attribution_window_days: int = Field(7, ge=0, le=90)
    commission_hold_days: int = Field(30, ge=0, le=365)
    funnel_daily_cap: int = Field(100_000, ge=1)

    max_body_bytes: int = 64 * 1024
    max_tags_per_post: int = 20
    page_size: int = 20
    idempotency_ttl_seconds: int = 24 * 3600
    cors_allowed_origins: Annotated[list[str], NoDecode] = ["*"]

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        """The environment first; then, in a deployed function, its Secrets Manager secrets."""
        from .adapters.secrets import SecretsManagerSource

        return (
            init_settings,
            env_settings,
            dotenv_settings,
            SecretsManagerSource(settings_cls),
            file_secret_settings,
        )

    @property
    def live(self) -> bool:
        return self.stage in self.live_stages

    @field_validator("webhook_retry_seconds", mode="before")
    @classmethod
    def _split_seconds(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.split(",") if part.strip()]
        return value

    @field_validator(
        "cors_allowed_origins",
        "meta_scopes",
        "x_scopes",
        "pinterest_scopes",
        "live_stages",
        mode="before",
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def stack_name(self) -> str:
        return self.stack_id or f"shoppable-{self.stage}-{self.region}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
