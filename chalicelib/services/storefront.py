"""What shoppers see: a post with each tag resolved to title, price and availability."""

from ..domain.ids import Prefix, has_prefix
from ..domain.posts import StorefrontPost, is_visible_in_storefront, storefront_post
from ..errors import NotFound


def shoppable_post(posts, catalog, post_id: str) -> StorefrontPost:
    post = posts.get(post_id) if has_prefix(post_id, Prefix.POST) else None
    if post is None or not is_visible_in_storefront(post):
        raise NotFound(f"No such post: '{post_id}'.", param="id")
    products = {
        p.id: p
        for p in catalog.products([t.product_id for t in post.tags])
        if p.merchant_id == post.merchant_id
    }
    variants = catalog.variants([vid for p in products.values() for vid in p.variant_ids])
    return storefront_post(post, products, variants)
