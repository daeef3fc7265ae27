"""A merchant's objects: another merchant's, or a malformed id, look exactly like a missing one."""

from collections.abc import Callable
from typing import Protocol, TypeVar

from ..domain.ids import Prefix, has_prefix
from ..errors import NotFound


class Owned(Protocol):
    @property
    def merchant_id(self) -> str: ...


T = TypeVar("T", bound=Owned)


def owned(
    lookup: Callable[[str], T | None], prefix: Prefix, merchant_id: str, object_id: str, noun: str
) -> T:
    """The object if `merchant_id` owns it; 404 `resource_missing` naming `id` otherwise."""
    found = lookup(object_id) if has_prefix(object_id, prefix) else None
    if found is None or found.merchant_id != merchant_id:
        raise NotFound(f"No such {noun}: '{object_id}'.", param="id")
    return found
