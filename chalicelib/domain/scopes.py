"""What an API key may do. Plain enum, no pydantic: route declarations need it at start-up."""

from enum import StrEnum


class Scope(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    POSTS_READ = "posts:read"
    POSTS_WRITE = "posts:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    CONNECTIONS_READ = "connections:read"
    CONNECTIONS_WRITE = "connections:write"
    SETTINGS_READ = "settings:read"
    SETTINGS_WRITE = "settings:write"
    CUSTOMERS_WRITE = "customers:write"
    CUSTOMERS_FULFILLMENT = "customers:read:fulfillment"
    CUSTOMERS_SUPPORT = "customers:read:support"
    CUSTOMERS_MARKETING = "customers:read:marketing"
    CUSTOMERS_PAYOUT = "customers:read:payout"  # a creator's payout details
    CUSTOMERS_EXPORT = "customers:export"
    CUSTOMERS_ERASE = "customers:erase"
    CUSTOMERS_AUDIT = "customers:audit"
    KEYS_READ = "keys:read"
    KEYS_WRITE = "keys:write"
    WEBHOOKS_READ = "webhooks:read"  # endpoints, their deliveries, and the events
    WEBHOOKS_WRITE = "webhooks:write"
    CREATORS_READ = "creators:read"  # creators, their links and codes, their statements
    CREATORS_WRITE = "creators:write"
    ANALYTICS_READ = "analytics:read"  # the funnel
