"""Cursor pages: what every list route answers, and the query they all take."""

from collections.abc import Sequence
from typing import Generic, Literal, TypeVar

from pydantic import ConfigDict, Field

from .base import Model

T = TypeVar("T")


class ListOf(Model, Generic[T]):
    object: Literal["list"] = "list"
    data: list[T]
    has_more: bool
    next_cursor: str | None


class ListQuery(Model):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(None, ge=1, le=100)
    cursor: str | None = Field(None, max_length=2048)


def listing(items: Sequence[T], next_cursor: str | None) -> ListOf[T]:
    return ListOf(data=list(items), has_more=next_cursor is not None, next_cursor=next_cursor)
