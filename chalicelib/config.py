"""Settings from the environment, read once on first use (never at import).

Every name is `SHOPPABLE_<FIELD>` in upper case; the README's configuration table lists them.
The AWS SDK reads its own variables (`AWS_REGION`, `AWS_ENDPOINT_URL`, credentials).
"""

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPPABLE_", extra="ignore")

    stage: str = "dev"
    region: str = Field("us-east-1", validation_alias="AWS_REGION")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")

    main_table: str = "shoppable-main"
    ingest_queue: str = "shoppable-ingest"
    events_queue: str = "shoppable-events"

    # Checkout and payments
    reservation_minutes: int = 30
    stripe_api_key: SecretStr = Field(SecretStr("sk_test_dev"), validation_alias="STRIPE_API_KEY")
    stripe_api_base: str | None = Field(None, validation_alias="STRIPE_API_BASE")
    stripe_webhook_secret: SecretStr = SecretStr("")

    # Vault
    vault_table: str = "shoppable-vault"
    vault_keys_table: str = "shoppable-vault-keys"
    vault_key_id: str = "alias/shoppable-vault"  # KMS key id, ARN or alias
    # base64 of >= 32 random bytes; read only where the vault runs (the vault function)
    vault_index_key: SecretStr | None = None
    # the vault function's name; unset, the vault runs in-process (tests, `make run`)
    vault_function: str | None = None
    vault_key_cache_seconds: int = 60

    max_body_bytes: int = 64 * 1024
    max_tags_per_post: int = 20
    page_size: int = 20
    max_page_size: int = 100
    idempotency_ttl_seconds: int = 24 * 3600
    cors_allowed_origins: Annotated[list[str], NoDecode] = ["*"]

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
