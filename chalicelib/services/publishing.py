"""Publishing a shoppable post to the platforms: one queued job per platform.

`POST /v1/posts/{id}/publish` marks each platform `queued` on the post and queues one job
each on the ingest queue. The job hands the post and its products to the platform's module
acting for the merchant's own connected account, with that connection's token (no account
connected, or one waiting to be authorized again, fails at once with that reason); a failure
the platform calls temporary (5xx, 429, no answer) is queued again with a growing delay
(SQS `DelaySeconds`, 30 s, 60 s, … within SQS's 15 minutes) and an attempt counter; after
the last attempt, or at once for a refusal (4xx), the post shows `failed` with the
platform's error. A job repeated after success finds the platform `published` and does
nothing.
"""

from ..domain.catalog import Product
from ..domain.channels import CatalogChannel, ChannelListing, ListingStatus
from ..domain.connections import Connection, Platform
from ..domain.errors import PlatformError
from ..domain.events import Message
from ..domain.ids import Prefix
from ..domain.outbound import Event, EventType, PostEventData, new_event
from ..domain.posts import Post, PostListing, PostView, checkout_link, post_view
from ..domain.publications import Publication, PublicationStatus, PublishRequest, retry_delay
from ..errors import ValidationFailed
from ..observability import logger
from . import channels
from .access import owned
from .connections import connection_for
from .social import Social

JOB = "publish.post"


def request_publication(
    social: Social, merchant_id: str, post_id: str, request: PublishRequest
) -> PostView:
    post = owned(social.posts.get, Prefix.POST, merchant_id, post_id, "post")
    if not request.platforms:
        raise ValidationFailed("Name at least one platform.", param="platforms")
    now = social.clock.now()
    for platform in dict.fromkeys(request.platforms):
        social.posts.set_publication(
            post.id, platform, Publication(status=PublicationStatus.QUEUED, updated_at=now)
        )
        social.queue.publish(_job(social, post, platform, attempt=1))
    return post_view(social.posts.get(post.id) or post)


def _job(social: Social, post: Post, platform: str, attempt: int) -> Message:
    return Message(
        id=social.clock.new_id(Prefix.EVENT),
        type=JOB,
        merchant_id=post.merchant_id,
        occurred_at=social.clock.now(),
        data={"post_id": post.id, "platform": platform, "attempt": attempt},
    )


def publish_job(social: Social, message: Message) -> None:
    post = social.posts.get(message.data["post_id"])
    platform, attempt = Platform(message.data["platform"]), int(message.data["attempt"])
    if post is None:
        return
    current = post.publications.get(platform)
    if current is not None and current.status == PublicationStatus.PUBLISHED:
        return  # a repeated job
    try:
        connection = _connection(social, post, platform)
        external_id = social.platforms.publisher(connection).publish(
            platform, _listing(social, post, connection)
        )
    except PlatformError as error:
        last = attempt >= social.settings.publish_max_attempts or not error.retryable
        failed = PostEventData(post_id=post.id, platform=platform, error=error.message)
        social.posts.set_publication(
            post.id,
            platform,
            Publication(
                status=PublicationStatus.FAILED if last else PublicationStatus.QUEUED,
                attempts=attempt,
                error=error.message,
                updated_at=social.clock.now(),
            ),
            _post_event(social, post, EventType.POST_PUBLISH_FAILED, failed) if last else None,
        )
        if not last:
            delay = retry_delay(attempt, social.settings.publish_retry_seconds)
            social.queue.publish(_job(social, post, platform, attempt + 1), delay_seconds=delay)
        logger.warning(
            "publication failed", extra={"platform": platform, "attempt": attempt, "last": last}
        )
        return
    social.posts.link_media(platform, external_id, post.id)
    social.posts.set_publication(
        post.id,
        platform,
        Publication(
            status=PublicationStatus.PUBLISHED,
            attempts=attempt,
            external_id=external_id,
            updated_at=social.clock.now(),
        ),
        _post_event(
            social, post, EventType.POST_PUBLISHED,
            PostEventData(post_id=post.id, platform=platform, external_id=external_id),
        ),
    )  # fmt: skip


def _post_event(social: Social, post: Post, kind: EventType, data: PostEventData) -> Event:
    """Goes into the outbox with the publication's state (PostStore.set_publication)."""
    return new_event(
        social.clock.new_id(Prefix.EVENT), kind, post.merchant_id, post.id, data, social.clock.now()
    )


def _connection(social: Social, post: Post, platform: Platform) -> Connection:
    connection = connection_for(social.connections, post.merchant_id, platform)
    if connection is None:
        message = (
            f"no {platform} account is connected: connect one with "
            f"POST /v1/connections/{platform}/authorize"
        )
        raise PlatformError(str(platform), 0, message, retryable=False)
    return connection


def _listing(social: Social, post: Post, connection: Connection) -> PostListing:
    products = social.products.products([t.product_id for t in post.tags])
    variants = social.products.variants([v for p in products for v in p.variant_ids])
    first = post.tags[0].product_id if post.tags else ""
    settings = social.merchant_settings.get(post.merchant_id)
    catalog_ids: tuple[str, ...] = ()
    if connection.platform == Platform.INSTAGRAM and post.tags:
        catalog_ids = _catalog_products(social, post, products, settings.meta_catalog_id)
    return PostListing(
        post=post,
        products=products,
        variants=variants,
        link=checkout_link(social.settings.storefront_url, post.id, first),
        account_id=connection.account_id,
        board_id=settings.pinterest_board_id,
        catalog_product_ids=catalog_ids,
    )


def _catalog_products(
    social: Social, post: Post, products: list[Product], catalog_id: str | None
) -> tuple[str, ...]:
    """Instagram product tags take the merchant's Meta catalog product ids: each tag's
    variant (or its product's first variant live in the catalog), from the product's Meta
    listing. A product not listed there yet is listed now; one that is not live fails the
    publication with the reason (retried while Meta's review is pending)."""
    if not catalog_id:
        raise PlatformError(
            "instagram", 0,
            "Instagram product tags take your Meta catalog's products: set meta_catalog_id "
            "with PATCH /v1/settings", retryable=False,
        )  # fmt: skip
    by_id = {p.id: p for p in products}
    listings: dict[str, ChannelListing | None] = {}
    for product in products:
        listings[product.id] = _meta_listing(social, product.id, catalog_id)
        if listings[product.id] is None:
            channels.list_product(social.channels, product, only=CatalogChannel.META)
            listings[product.id] = _meta_listing(social, product.id, catalog_id)
    found: list[str] = []
    for tag in post.tags:
        tagged = by_id.get(tag.product_id)
        listing = listings.get(tag.product_id)
        title = tagged.title if tagged else tag.product_id
        wanted = [tag.variant_id] if tag.variant_id else (tagged.variant_ids if tagged else [])
        listed = [listing.variants[v] for v in wanted if listing and v in listing.variants]
        live = [v for v in listed if v.status == ListingStatus.LIVE and v.catalog_product_id]
        if live:
            found.append(str(live[0].catalog_product_id))
            continue
        status = listed[0].status if listed else "not listed"
        reason = f" ({listed[0].reason})" if listed and listed[0].reason else ""
        raise PlatformError(
            "instagram", 0,
            f"'{title}' is not live in your Meta catalog {catalog_id}: {status}{reason}",
            retryable=status == ListingStatus.PENDING,
        )  # fmt: skip
    return tuple(found)


def _meta_listing(social: Social, product_id: str, catalog_id: str) -> ChannelListing | None:
    return next(
        (x for x in social.channels.listings.of_product(product_id)
         if x.channel == CatalogChannel.META and x.account_id == catalog_id),
        None,
    )  # fmt: skip
