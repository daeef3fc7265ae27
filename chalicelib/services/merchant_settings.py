"""A merchant's own settings (`GET`/`PATCH /v1/settings`): comment-to-buy keywords and reply,
per merchant and per post, the Pinterest board and the Meta commerce account."""

from ..domain.errors import ConcurrentUpdate
from ..domain.ids import Prefix, has_prefix
from ..domain.settings import MAX_POST_OVERRIDES, MerchantSettings, SettingsUpdate, updated
from ..errors import Conflict, ValidationFailed
from .social import Social


def get_settings(social: Social, merchant_id: str) -> MerchantSettings:
    return social.merchant_settings.get(merchant_id)


def update_settings(social: Social, merchant_id: str, update: SettingsUpdate) -> MerchantSettings:
    for post_id in update.posts or {}:
        post = social.posts.get(post_id) if has_prefix(post_id, Prefix.POST) else None
        if post is None or post.merchant_id != merchant_id:
            raise ValidationFailed(
                f"No such post: '{post_id}'.", code="resource_missing", param=f"posts.{post_id}"
            )
    current = social.merchant_settings.get(merchant_id)
    changed = updated(current, update, social.clock.now())
    if len(changed.posts) > MAX_POST_OVERRIDES:
        raise ValidationFailed(
            f"At most {MAX_POST_OVERRIDES} posts may have their own comment-to-buy.",
            code="too_many_overrides",
            param="posts",
        )
    try:
        social.merchant_settings.put(merchant_id, changed, current)
    except ConcurrentUpdate:
        raise Conflict(
            "The settings changed meanwhile: read them and try again.", code="concurrent_update"
        ) from None
    return changed
