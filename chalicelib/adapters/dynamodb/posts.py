"""Shoppable posts."""

from ...domain.outbound import Event
from ...domain.posts import Post
from ...domain.publications import Publication
from . import keys
from .outbox import add_event
from .table import MainTable, model_item, without_keys

POSTS = "POSTS"


class PostRepository:
    def __init__(self, table: MainTable):
        self.table = table

    def add(self, post: Post) -> None:
        listing = keys.listing_entry(post.merchant_id, POSTS, post.created_at.isoformat(), post.id)
        self.table.put(
            model_item(post, {**keys.post(post.id), **listing}), "attribute_not_exists(pk)"
        )

    def get(self, post_id: str) -> Post | None:
        item = self.table.get(keys.post(post_id))
        return Post.model_validate(without_keys(item)) if item else None

    def page(
        self, merchant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[Post], str | None]:
        page = self.table.query_listing(keys.merchant_listing(merchant_id, POSTS), limit, cursor)
        return [Post.model_validate(without_keys(i)) for i in page.items], page.next_cursor

    def set_publication(
        self, post_id: str, platform: str, publication: Publication, event: Event | None = None
    ) -> None:
        """The publication's new state, with its event (if any) in the outbox, in one write."""
        tx = self.table.transaction()
        tx.update(
            keys.post(post_id),
            "SET publications.#platform = :publication",
            "attribute_exists(pk)",
            names={"#platform": platform},
            values={":publication": publication.model_dump(mode="json")},
        )
        if event is not None:
            add_event(tx, event)
        self.table.commit(tx)

    def link_media(self, platform: str, media_id: str, post_id: str) -> None:
        """Remember which post a platform's media is, for the comments it gets."""
        self.table.put({**keys.platform_media(platform, media_id), "post_id": post_id})

    def for_media(self, platform: str, media_id: str) -> Post | None:
        pointer = self.table.get(keys.platform_media(platform, media_id))
        return self.get(pointer["post_id"]) if pointer else None
