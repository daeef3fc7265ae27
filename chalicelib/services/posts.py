"""Shoppable posts: creating them with tags checked against the catalog, reading them, and
showing them to shoppers with each tag resolved to title, price and availability."""

from dataclasses import dataclass
from typing import Protocol

from ..domain.creators import Creator
from ..domain.ids import Prefix, has_prefix
from ..domain.outbound import Event
from ..domain.posts import (
    Post,
    PostCreate,
    PostView,
    StorefrontPost,
    is_visible_in_storefront,
    post_view,
    storefront_post,
)
from ..domain.publications import Publication
from ..errors import NotFound, ValidationFailed
from .access import owned
from .catalog import ProductStore
from .ports import Clock


class PostStore(Protocol):
    def add(self, post: Post) -> None: ...

    def get(self, post_id: str) -> Post | None: ...

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Post], str | None]: ...

    def set_publication(
        self, post_id: str, platform: str, publication: Publication, event: Event | None = None
    ) -> None: ...

    def link_media(self, platform: str, media_id: str, post_id: str) -> None:
        """Remember which post a platform's media is, for the comments it gets."""
        ...

    def for_media(self, platform: str, media_id: str) -> Post | None: ...


class CreatorLookup(Protocol):
    def get(self, creator_id: str) -> Creator | None: ...


@dataclass(frozen=True)
class Posts:
    posts: PostStore
    products: ProductStore
    clock: Clock
    max_tags: int
    creators: CreatorLookup | None = None  # for collab posts (`creator_id`)


def create_post(posts: Posts, merchant_id: str, request: PostCreate) -> PostView:
    if len(request.tags) > posts.max_tags:
        raise ValidationFailed(
            f"A post carries at most {posts.max_tags} tags.", code="too_many_tags", param="tags"
        )
    _check_tags_point_at_own_catalog(posts, merchant_id, request)
    if request.creator_id is not None:
        _check_creator(posts, merchant_id, request.creator_id)
    post = Post(
        id=posts.clock.new_id(Prefix.POST),
        merchant_id=merchant_id,
        media=request.media,
        caption=request.caption,
        tags=request.tags,
        status=request.status,
        created_at=posts.clock.now(),
        creator_id=request.creator_id,
    )
    posts.posts.add(post)
    return post_view(post)


def _check_tags_point_at_own_catalog(posts: Posts, merchant_id: str, request: PostCreate) -> None:
    product_ids = [t.product_id for t in request.tags if has_prefix(t.product_id, Prefix.PRODUCT)]
    products = {
        p.id: p for p in posts.products.products(product_ids) if p.merchant_id == merchant_id
    }
    for index, tag in enumerate(request.tags):
        product = products.get(tag.product_id)
        if product is None:
            raise ValidationFailed(
                f"No such product: '{tag.product_id}'.",
                code="resource_missing",
                param=f"tags[{index}].product_id",
            )
        if tag.variant_id is not None and tag.variant_id not in product.variant_ids:
            raise ValidationFailed(
                f"'{tag.variant_id}' is not a variant of '{tag.product_id}'.",
                code="resource_missing",
                param=f"tags[{index}].variant_id",
            )


def _check_creator(posts: Posts, merchant_id: str, creator_id: str) -> None:
    found = posts.creators.get(creator_id) if posts.creators and has_prefix(
        creator_id, Prefix.CREATOR) else None  # fmt: skip
    if found is None or found.merchant_id != merchant_id:
        raise ValidationFailed(
            f"No such creator: '{creator_id}'.", code="resource_missing", param="creator_id"
        )


def owned_post(posts: Posts, merchant_id: str, post_id: str) -> Post:
    return owned(posts.posts.get, Prefix.POST, merchant_id, post_id, "post")


def get_post(posts: Posts, merchant_id: str, post_id: str) -> PostView:
    return post_view(owned_post(posts, merchant_id, post_id))


def list_posts(
    posts: Posts, merchant_id: str, limit: int, cursor: str | None
) -> tuple[list[PostView], str | None]:
    found, next_cursor = posts.posts.page(merchant_id, limit, cursor)
    return [post_view(p) for p in found], next_cursor


def visible_post(posts: Posts, post_id: str) -> Post:
    """The post, if shoppers may see it; drafts and archived posts do not exist for them."""
    return visible_post_of(posts.posts, post_id)


def visible_post_of(store: PostStore, post_id: str, param: str = "id") -> Post:
    post = store.get(post_id) if has_prefix(post_id, Prefix.POST) else None
    if post is None or not is_visible_in_storefront(post):
        raise NotFound(f"No such post: '{post_id}'.", param=param)
    return post


def shoppable_post(posts: Posts, post_id: str) -> StorefrontPost:
    """A post as shoppers see it, each tag resolved to title, price and availability."""
    post = visible_post(posts, post_id)
    products = {
        p.id: p
        for p in posts.products.products([t.product_id for t in post.tags])
        if p.merchant_id == post.merchant_id
    }
    variants = posts.products.variants([vid for p in products.values() for vid in p.variant_ids])
    return storefront_post(post, products, variants)
