"""Publishing a shoppable post to the platforms: one queued job per platform.

`POST /v1/posts/{id}/publish` marks each platform `queued` on the post and queues one job
each on the ingest queue. The job calls the platform's API; a failure the platform calls
temporary (5xx, 429, no answer) is queued again with a growing delay (SQS `DelaySeconds`,
30 s, 60 s, … within SQS's 15 minutes) and an attempt counter; after the last attempt, or at
once for a refusal (4xx), the post shows `failed` with the platform's error. A job repeated
after success finds the platform `published` and does nothing.
"""

from ..domain.catalog import Product
from ..domain.connections import Platform
from ..domain.events import Message
from ..domain.ids import Prefix
from ..domain.posts import Post, PostView, post_view
from ..domain.social import (
    Publication,
    PublicationStatus,
    PublishRequest,
    checkout_link,
    retry_delay,
)
from ..errors import ValidationFailed
from ..observability import logger
from .posts import owned_post

JOB = "publish.post"


def request_publication(rt, merchant_id: str, post_id: str, request: PublishRequest) -> PostView:
    post = owned_post(rt.posts, merchant_id, post_id)
    if not request.platforms:
        raise ValidationFailed("Name at least one platform.", param="platforms")
    now = rt.clock.now()
    for platform in dict.fromkeys(request.platforms):
        rt.posts.set_publication(
            post.id, platform, Publication(status=PublicationStatus.QUEUED, updated_at=now)
        )
        rt.ingest_queue.publish(_job(rt, post, platform, attempt=1))
    return post_view(rt.posts.get(post.id) or post)


def _job(rt, post: Post, platform: str, attempt: int) -> Message:
    return Message(
        id=rt.clock.new_id(Prefix.EVENT),
        type=JOB,
        merchant_id=post.merchant_id,
        occurred_at=rt.clock.now(),
        data={"post_id": post.id, "platform": platform, "attempt": attempt},
    )


def publish_job(rt, message: Message) -> None:
    from ..adapters.platforms.http import PlatformError

    post = rt.posts.get(message.data["post_id"])
    platform, attempt = message.data["platform"], int(message.data["attempt"])
    if post is None:
        return
    current = post.publications.get(platform)
    if current is not None and current.status == PublicationStatus.PUBLISHED:
        return  # a repeated job
    try:
        external_id = _publish(rt, post, Platform(platform))
    except PlatformError as error:
        last = attempt >= rt.settings.publish_max_attempts or not error.retryable
        rt.posts.set_publication(
            post.id,
            platform,
            Publication(
                status=PublicationStatus.FAILED if last else PublicationStatus.QUEUED,
                attempts=attempt,
                error=error.message,
                updated_at=rt.clock.now(),
            ),
        )
        if not last:
            delay = retry_delay(attempt, rt.settings.publish_retry_seconds)
            rt.ingest_queue.publish(_job(rt, post, platform, attempt + 1), delay_seconds=delay)
        logger.warning(
            "publication failed", extra={"platform": platform, "attempt": attempt, "last": last}
        )
        return
    rt.posts.link_media(platform, external_id, post.id)
    rt.posts.set_publication(
        post.id,
        platform,
        Publication(
            status=PublicationStatus.PUBLISHED,
            attempts=attempt,
            external_id=external_id,
            updated_at=rt.clock.now(),
        ),
    )


def _account(rt, merchant_id: str, platform: Platform) -> str:
    from ..adapters.platforms.http import PlatformError

    cursor = None
    while True:
        found, cursor = rt.connections.page(merchant_id, 100, cursor)
        for connection in found:
            if connection.platform == platform:
                return connection.account_id
        if cursor is None:
            raise PlatformError(str(platform), 0, f"no {platform} account connected", False)


def _publish(rt, post: Post, platform: Platform) -> str:
    products = rt.catalog.products([t.product_id for t in post.tags])
    link = checkout_link(
        rt.settings.storefront_url, post.id, post.tags[0].product_id if post.tags else ""
    )
    p = rt.platforms
    if platform == Platform.INSTAGRAM:
        tags = [{"product_id": t.product_id, "x": t.x, "y": t.y} for t in post.tags]
        account = _account(rt, post.merchant_id, platform)
        return p.meta.publish_instagram(account, post.media.url, post.caption, tags)
    if platform == Platform.FACEBOOK:
        account = _account(rt, post.merchant_id, platform)
        return p.meta.publish_page_photo(account, post.media.url, f"{post.caption}\n{link}")
    if platform == Platform.X:
        return p.x.post(f"{post.caption} {link}".strip())
    variants = rt.catalog.variants([v for product in products for v in product.variant_ids])
    if platform == Platform.PINTEREST:
        items = [
            _pinterest_item(product, v, link)
            for product in products
            for v in variants
            if v.product_id == product.id
        ]
        p.pinterest.upsert_catalog_items(items)
        title = products[0].title if products else post.caption[:100]
        return p.pinterest.create_pin(
            rt.settings.pinterest_board_id, title, post.caption, link, post.media.url
        )
    # TikTok Shop: the tagged products as TikTok Shop products; the first one's id stands
    # for the post.
    ids = [
        p.tiktok.create_product(
            _tiktok_product(product, [v for v in variants if v.product_id == product.id])
        )
        for product in products
    ]
    return ids[0] if ids else ""


def _major(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def _pinterest_item(product: Product, variant, link: str) -> dict:
    return {
        "item_id": variant.sku,
        "attributes": {
            "title": product.title,
            "description": product.description or product.title,
            "link": link,
            "image_link": list(product.images[:1]),
            "price": f"{_major(variant.price.amount)} {variant.price.currency}",
            "availability": "in stock" if variant.available > 0 else "out of stock",
            "item_group_id": product.id,
        },
    }


def _tiktok_product(product: Product, variants: list) -> dict:
    return {
        "title": product.title,
        "description": product.description or product.title,
        "main_images": [{"uri": url} for url in product.images[:9]],
        "skus": [
            {
                "seller_sku": v.sku,
                "price": {"amount": _major(v.price.amount), "currency": v.price.currency},
                "inventory": [{"quantity": v.available}],
            }
            for v in variants
        ],
    }


HANDLERS = {JOB: publish_job}
