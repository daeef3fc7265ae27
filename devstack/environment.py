"""The process environment of the dev stack, set before the first client is created.

The app reads its settings and the AWS SDK its endpoint and credentials from the environment,
so pointing them at the emulator and the Stripe stand-in is all it takes; the code that runs is
the code that ships. AWS is always the emulator here (fake credentials, so a real account can
never be reached). Stripe is localstripe unless `STRIPE_API_KEY` is already set, in which case
the stack talks to Stripe itself (and the demo page needs `SHOPPABLE_STRIPE_PUBLISHABLE_KEY`);
with localstripe, the demo page gets a dev publishable key and localstripe's Stripe.js. Each
webhook secret, and the vault's index key, is generated for this run unless the variable is
already set, so real platform secrets can be tried locally as well.
"""

import base64
import os
import secrets
from dataclasses import dataclass

from .stripe_standin import STRIPE_JS_PATH

DEFAULT_REGION = "us-east-1"
DEV_RETRY_SECONDS = "2,5,10,20,30,60,120,300"
DEV_STRIPE_KEY = "sk_test_dev"  # localstripe accepts any key
DEV_PUBLISHABLE_KEY = "pk_test_dev"  # what the demo page's Stripe.js stand-in is given
REAL_STRIPE_API_BASE = "https://api.stripe.com"
# The emulator's fake credentials: no real account can be reached with them.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

# dev.json key -> environment variable the app reads it from
WEBHOOK_SECRET_VARIABLES = {
    "meta_app_secret": "SHOPPABLE_META_APP_SECRET",
    "meta_verify_token": "SHOPPABLE_META_VERIFY_TOKEN",
    "tiktok_app_key": "SHOPPABLE_TIKTOK_APP_KEY",
    "tiktok_app_secret": "SHOPPABLE_TIKTOK_APP_SECRET",
    "x_consumer_secret": "SHOPPABLE_X_CONSUMER_SECRET",
    "stripe_webhook_secret": "SHOPPABLE_STRIPE_WEBHOOK_SECRET",
}

# The platform apps' OAuth clients, and the key that signs OAuth states: set for this run
# unless already set. The stand-in takes any client id and secret.
APP_CREDENTIALS = {
    "SHOPPABLE_META_APP_ID": lambda: "1234567890" + secrets.token_hex(2),
    "SHOPPABLE_TIKTOK_SERVICE_ID": lambda: "7" + secrets.token_hex(6),
    "SHOPPABLE_X_CLIENT_ID": lambda: secrets.token_urlsafe(18),
    "SHOPPABLE_X_CLIENT_SECRET": lambda: secrets.token_urlsafe(36),
    "SHOPPABLE_PINTEREST_APP_ID": lambda: str(1400000 + secrets.randbelow(99999)),
    "SHOPPABLE_PINTEREST_APP_SECRET": lambda: secrets.token_hex(20),
    "SHOPPABLE_OAUTH_STATE_SECRET": lambda: secrets.token_urlsafe(48),
}


# The vault's blind-index key, the caller-assertion keys and the API's digest key: any 32
# random bytes will do for data that lives one run.
GENERATED_KEY_VARIABLES = (
    "SHOPPABLE_VAULT_INDEX_KEY",
    "SHOPPABLE_EDGE_CALLER_KEY",
    "SHOPPABLE_WORKER_CALLER_KEY",
    "SHOPPABLE_REQUEST_DIGEST_KEY",
)


def _generated_secrets() -> dict[str, str]:
    return {
        "meta_app_secret": secrets.token_hex(16),
        "meta_verify_token": secrets.token_urlsafe(24),
        "tiktok_app_key": "dev" + secrets.token_hex(8),
        "tiktok_app_secret": secrets.token_hex(20),
        "x_consumer_secret": secrets.token_urlsafe(37),
        "stripe_webhook_secret": "whsec_" + secrets.token_urlsafe(32),
    }


@dataclass(frozen=True)
class DevEnvironment:
    region: str
    aws_endpoint_url: str
    stripe_api_base: str
    webhook_secrets: dict[str, str]


def uses_real_stripe() -> bool:
    return bool(os.environ.get("STRIPE_API_KEY"))


def configure(aws_endpoint_url: str, stripe_api_base: str | None) -> DevEnvironment:
    """Point this process at the emulator, and at the Stripe stand-in if one is given."""
    env = os.environ
    region = env.get("AWS_REGION") or DEFAULT_REGION
    for name in list(env):
        # a profile, a session or a per-service endpoint would lead past the emulator
        if name in ("AWS_PROFILE", "AWS_SESSION_TOKEN") or name.startswith("AWS_ENDPOINT_URL_"):
            del env[name]
    env.update(EMULATOR_CREDENTIALS)
    env.update(
        AWS_ENDPOINT_URL=aws_endpoint_url,
        AWS_REGION=region,
        AWS_DEFAULT_REGION=region,
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        AWS_EC2_METADATA_DISABLED="true",
    )
    if stripe_api_base is not None:
        env.update(
            STRIPE_API_BASE=stripe_api_base,
            STRIPE_API_KEY=DEV_STRIPE_KEY,
            SHOPPABLE_STRIPE_PUBLISHABLE_KEY=DEV_PUBLISHABLE_KEY,
            SHOPPABLE_STRIPE_JS_URL=stripe_api_base + STRIPE_JS_PATH,
        )
    else:
        stripe_api_base = env.get("STRIPE_API_BASE") or REAL_STRIPE_API_BASE
    for variable, generate in APP_CREDENTIALS.items():
        env.setdefault(variable, generate())
    for variable in GENERATED_KEY_VARIABLES:
        env.setdefault(variable, base64.b64encode(secrets.token_bytes(32)).decode())
    # Merchants' webhook endpoints may be on this machine (`python -m devstack.cli listen`),
    # and retries come within a minute, so that a stopped receiver catches up soon.
    env.setdefault("SHOPPABLE_WEBHOOK_LOCAL_URLS", "true")
    env.setdefault("SHOPPABLE_WEBHOOK_RETRY_SECONDS", DEV_RETRY_SECONDS)
    generated = _generated_secrets()
    webhook_secrets = {}
    for key, variable in WEBHOOK_SECRET_VARIABLES.items():
        webhook_secrets[key] = env.setdefault(variable, generated[key])
    return DevEnvironment(region, aws_endpoint_url, stripe_api_base, webhook_secrets)
