"""A merchant's own settings (`GET`/`PATCH /v1/settings`): comment-to-buy keywords and reply,
per merchant and per post, the Pinterest board, the Meta commerce account, and the checkout
limits (their own item: services/shop_settings.py)."""

from ..domain.errors import ConcurrentUpdate
from ..domain.ids import Prefix, has_prefix
from ..domain.merchants import CheckoutSettings
from ..domain.settings import (
    MAX_POST_OVERRIDES,
    MerchantSettings,
    SettingsUpdate,
    SettingsView,
    updated,
)
from ..errors import Conflict, ValidationFailed
from .shop_settings import ShopSettings, checkout_settings, update_checkout
from .social import Social


def get_settings(social: Social, shop: ShopSettings, merchant_id: str) -> SettingsView:
    return _view(social.merchant_settings.get(merchant_id), checkout_settings(shop, merchant_id))


def update_settings(
    social: Social, shop: ShopSettings, merchant_id: str, update: SettingsUpdate
) -> SettingsView:
    """The other settings are checked and written first, so a refused update changes no
    checkout limit."""
    changed = _update_social(social, merchant_id, update)
    return _view(changed, update_checkout(shop, merchant_id, update.checkout))


def _view(settings: MerchantSettings, checkout: CheckoutSettings) -> SettingsView:
    return SettingsView.model_validate({**dict(settings), "checkout": checkout})


def _update_social(social: Social, merchant_id: str, update: SettingsUpdate) -> MerchantSettings:
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
