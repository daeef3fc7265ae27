"""What differs between regions: `infra/regions/<region>.json`, one file per region's stack.

    {
      "region": "eu-west-1",
      "data_residency": "EU",               # tag on everything that holds data
      "default_currency": "EUR",            # a new merchant's currency here
      "alarm_emails": ["oncall@…"],         # who the alarms reach (SNS e-mail subscriptions)
      "log_retention_days": 90,             # CloudWatch Logs retention (one of its values)
      "api_throttle": {"rate_limit": 200, "burst_limit": 400},        # every route
      "public_api_throttle": {"rate_limit": 50, "burst_limit": 100},  # routes without a key
      "waf": {"checkouts_per_address": 1000, "storefront_per_address": 5000},  # per 5 minutes
      "server_error_alarm_threshold": 5,    # API 5xx responses in 5 minutes that page
      "settings": {"SHOPPABLE_STOREFRONT_URL": "https://…"},          # optional
      "deployment_bucket": "…"              # optional: where `make deploy` uploads the code
    }

`settings` sets other `chalicelib.config.Settings` fields for this region's functions, by
their environment names; resources and secrets are wired by the build, never set here. Each
region's stack stands alone: nothing in one region's file or stack refers to another region.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

REGIONS = Path(__file__).resolve().parent / "regions"


@dataclass(frozen=True)
class Throttle:
    rate_limit: float  # requests per second, sustained
    burst_limit: int


@dataclass(frozen=True)
class WafLimits:
    """Requests one address may make in 5 minutes before the web ACL blocks it (WAF's
    rate-based rules). Generous: a crowd behind one proxy, or a load test, still buys."""

    checkouts_per_address: int = 1000
    storefront_per_address: int = 5000


@dataclass(frozen=True)
class Region:
    region: str
    data_residency: str
    default_currency: str  # ISO 4217
    alarm_emails: list[str]
    log_retention_days: int
    api_throttle: Throttle
    public_api_throttle: Throttle
    server_error_alarm_threshold: int
    settings: dict[str, str] = field(default_factory=dict)
    deployment_bucket: str | None = None
    waf: WafLimits = field(default_factory=WafLimits)


def known_regions() -> list[str]:
    return sorted(p.stem for p in REGIONS.glob("*.json"))


def load_region(region: str) -> Region:
    path = REGIONS / f"{region}.json"
    if not path.is_file():
        known = ", ".join(known_regions())
        raise SystemExit(f"no settings for region {region!r} in {REGIONS} (known: {known})")
    raw = json.loads(path.read_text())
    try:
        loaded = Region(
            **{
                **raw,
                "api_throttle": Throttle(**raw["api_throttle"]),
                "public_api_throttle": Throttle(**raw["public_api_throttle"]),
                "waf": WafLimits(**raw.get("waf", {})),
            }
        )
    except (KeyError, TypeError) as error:
        raise SystemExit(f"{path}: {error}") from None
    if loaded.region != region:
        raise SystemExit(f"{path} is for region {loaded.region!r}, not {region!r}")
    if not loaded.alarm_emails:
        raise SystemExit(f"{path}: alarm_emails is empty; the alarms would reach no one")
    if loaded.public_api_throttle.rate_limit > loaded.api_throttle.rate_limit:
        raise SystemExit(f"{path}: public routes cannot be allowed more than the whole API")
    if min(loaded.waf.checkouts_per_address, loaded.waf.storefront_per_address) < 100:
        raise SystemExit(f"{path}: waf limits below 100 requests per 5 minutes would block crowds")
    return loaded
