"""Shoppable posts: creating them with tags checked against the catalog, and reading them."""

from ..domain.ids import Prefix, has_prefix
from ..domain.posts import Post, PostCreate, PostView, post_view
from ..errors import NotFound, ValidationFailed


def create_post(
    posts, catalog, clock, merchant_id: str, request: PostCreate, max_tags: int
) -> PostView:
    if len(request.tags) > max_tags:
        raise ValidationFailed(
            f"A post carries at most {max_tags} tags.", code="too_many_tags", param="tags"
        )
    _check_tags_point_at_own_catalog(catalog, merchant_id, request)
    post = Post(
        id=clock.new_id(Prefix.POST),
        merchant_id=merchant_id,
        media=request.media,
        caption=request.caption,
        tags=request.tags,
        status=request.status,
        created_at=clock.now(),
    )
    posts.add(post)
    return post_view(post)


def _check_tags_point_at_own_catalog(catalog, merchant_id: str, request: PostCreate) -> None:
    product_ids = [t.product_id for t in request.tags if has_prefix(t.product_id, Prefix.PRODUCT)]
    products = {p.id: p for p in catalog.products(product_ids) if p.merchant_id == merchant_id}
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


def owned_post(posts, merchant_id: str, post_id: str) -> Post:
    post = posts.get(post_id) if has_prefix(post_id, Prefix.POST) else None
    if post is None or post.merchant_id != merchant_id:
        raise NotFound(f"No such post: '{post_id}'.", param="id")
    return post


def get_post(posts, merchant_id: str, post_id: str) -> PostView:
    return post_view(owned_post(posts, merchant_id, post_id))


def list_posts(posts, merchant_id: str, limit: int, cursor: str | None):
    found, next_cursor = posts.page(merchant_id, limit, cursor)
    return [post_view(p) for p in found], next_cursor
