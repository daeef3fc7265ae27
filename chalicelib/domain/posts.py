"""Shoppable posts: media, a caption and product tags placed on the image."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from .base import Model
from .catalog import Product, Variant
from .fields import HttpsUrl, ObjectId
from .money import Money
from .publications import Publication

# Instagram's caption limit, the strictest of the platforms we publish to.
MAX_CAPTION = 2200

Coordinate = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class PostStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class Media(Model):
    model_config = ConfigDict(extra="forbid")

    url: HttpsUrl
    width: int = Field(ge=1, le=20000)
    height: int = Field(ge=1, le=20000)


class Tag(Model):
    """A product tag; x and y are fractions of the image's width and height from its top left."""

    model_config = ConfigDict(extra="forbid")

    product_id: ObjectId
    variant_id: ObjectId | None = None
    x: Coordinate
    y: Coordinate


class PostCreate(Model):
    model_config = ConfigDict(extra="forbid")

    media: Media
    caption: Annotated[str, Field(max_length=MAX_CAPTION)] = ""
    tags: Annotated[list[Tag], Field(max_length=200)] = []
    status: Literal[PostStatus.DRAFT, PostStatus.ACTIVE] = PostStatus.ACTIVE
    creator_id: ObjectId | None = Field(
        None, description="a collab post: the creator's own, whose sales are theirs (cr_…)"
    )

    @model_validator(mode="after")
    def _one_tag_per_item(self) -> "PostCreate":
        seen = {(tag.product_id, tag.variant_id) for tag in self.tags}
        if len(seen) != len(self.tags):
            raise ValueError("a product or variant is tagged at most once per post")
        return self


class Engagement(Model):
    """What a post has drawn on the platforms, counted once per comment, mention or message."""

    comments: int = 0
    mentions: int = 0
    messages: int = 0


class Post(Model):
    model_config = ConfigDict(extra="forbid")

    object: Literal["post"] = "post"
    id: str
    merchant_id: str
    media: Media
    caption: str
    tags: list[Tag]
    status: PostStatus
    created_at: datetime
    # per platform: queued, published or failed with the platform's error
    publications: dict[str, Publication] = {}
    engagement: Engagement = Field(default_factory=Engagement)
    creator_id: str | None = None  # a collab post's creator


class PostView(Model):
    object: Literal["post"] = "post"
    id: str
    media: Media
    caption: str
    tags: list[Tag]
    status: PostStatus
    created_at: datetime
    publications: dict[str, Publication] = {}
    engagement: Engagement = Field(default_factory=Engagement)
    creator_id: str | None = None


def post_view(post: Post) -> PostView:
    return PostView(**post.model_dump(exclude={"merchant_id", "object"}))


class Availability(StrEnum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"


class TagVariant(Model):
    id: str
    price: Money
    options: dict[str, str]
    availability: Availability


class ResolvedTag(Model):
    """A tag as a shopper sees it. Without a tagged variant, `price` is the lowest one."""

    product_id: str
    variant_id: str | None
    x: float
    y: float
    title: str
    image: str | None
    price: Money
    availability: Availability
    variants: list[TagVariant]


class StorefrontPost(Model):
    object: Literal["storefront_post"] = "storefront_post"
    id: str
    media: Media
    caption: str
    tags: list[ResolvedTag]


def is_visible_in_storefront(post: Post) -> bool:
    return post.status == PostStatus.ACTIVE


def _availability(variant: Variant) -> Availability:
    return Availability.IN_STOCK if variant.available > 0 else Availability.OUT_OF_STOCK


def resolve_tag(tag: Tag, product: Product, variants: list[Variant]) -> ResolvedTag | None:
    """Resolve a tag for shoppers; None when what it points at no longer exists."""
    offered = [v for v in variants if v.product_id == product.id]
    if tag.variant_id is not None:
        offered = [v for v in offered if v.id == tag.variant_id]
    if not offered:
        return None
    in_stock = [v for v in offered if v.available > 0]
    cheapest = min(in_stock or offered, key=lambda v: v.price.amount)
    return ResolvedTag(
        product_id=product.id,
        variant_id=tag.variant_id,
        x=tag.x,
        y=tag.y,
        title=product.title,
        image=product.images[0] if product.images else None,
        price=cheapest.price,
        availability=Availability.IN_STOCK if in_stock else Availability.OUT_OF_STOCK,
        variants=[
            TagVariant(id=v.id, price=v.price, options=v.options, availability=_availability(v))
            for v in offered
        ],
    )


def storefront_post(
    post: Post, products: dict[str, Product], variants: list[Variant]
) -> StorefrontPost:
    tags = []
    for tag in post.tags:
        product = products.get(tag.product_id)
        resolved = resolve_tag(tag, product, variants) if product else None
        if resolved is not None:
            tags.append(resolved)
    return StorefrontPost(id=post.id, media=post.media, caption=post.caption, tags=tags)


def checkout_link(storefront_url: str, post_id: str, product_id: str) -> str:
    """Where a shopper buys a tagged product of the post (comment-to-buy, captions)."""
    return f"{storefront_url.rstrip('/')}/posts/{post_id}?product={product_id}"


@dataclass(frozen=True)
class PostListing:
    """What a platform needs to publish a post: the post, the tagged products with their
    variants, the storefront link, the merchant's account on that platform, and (Pinterest)
    the merchant's board for Pins."""

    post: Post
    products: list[Product]
    variants: list[Variant]
    link: str
    account_id: str | None
    board_id: str | None = None
    # Instagram: each tag's product as the merchant's Meta catalog knows it, in tag order
    catalog_product_ids: tuple[str, ...] = ()

    def variants_of(self, product: Product) -> list[Variant]:
        return [v for v in self.variants if v.product_id == product.id]
