"""A merchant's settings: `checkout` holds the limits on anonymous checkouts (units per line
and per order, unpaid checkouts per client and per email, how long stock is held)."""

from ..domain.merchants import MerchantSettings, SettingsPatch
from ..domain.scopes import Scope
from ..services import shop_settings
from ..web import Call, Routes

routes = Routes(__name__)
blueprint = routes.blueprint


@routes.route(
    "/v1/settings",
    "GET",
    scope=Scope.SETTINGS_READ,
    returns=MerchantSettings,
    summary="This merchant's settings",
)
def get_settings(call: Call) -> MerchantSettings:
    return shop_settings.read_settings(call.rt.shop_settings, call.merchant_id)


@routes.route(
    "/v1/settings",
    "PATCH",
    scope=Scope.SETTINGS_WRITE,
    body=SettingsPatch,
    returns=MerchantSettings,
    summary="Change settings: only the fields given; null removes a limit",
)
def update_settings(call: Call) -> MerchantSettings:
    return shop_settings.update_settings(call.rt.shop_settings, call.merchant_id, call.body)
