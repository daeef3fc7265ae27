"""What the ingest consumer does with the social platforms' events: message type → handler."""

from . import engagement, platform_orders, publishing
from .webhooks import routed

HANDLERS = {
    "tiktok.order_status_change": routed(platform_orders.tiktok_order_changed),
    "meta.comment": routed(engagement.engagement_received),
    "meta.mention": routed(engagement.engagement_received),
    "meta.message": routed(engagement.engagement_received),
    "x.mention": routed(engagement.engagement_received),
    "x.direct_message": routed(engagement.engagement_received),
    **publishing.HANDLERS,
}
