"""Sales channels: our catalog and stock kept in step on TikTok Shop, Meta and Pinterest.

    product or stock written ──main table's stream──▶ `catalog_changed` (the outbox consumer)
        product created/changed ─▶ LIST_JOB ─▶ each connected channel's catalog (create or
                                   edit), the platform's per-item verdicts onto the listing
        available stock moved   ─▶ STOCK_JOB ─▶ each channel listing the variant, one push

Each channel is reached as the merchant's own connection (its token, its shop): a TikTok
shop, the Meta catalog named in the merchant's settings (through its Instagram or Facebook
connection), a Pinterest account.

Stock pushes are coalesced and ordered. A job reads the variant when it runs, so many changes
queued before it make one push of the newest stock; a channel already told that version (or a
newer one) is skipped. One worker at a time pushes a variant (a lease); a job that finds the
lease held waits, and the holder, once it lets go, looks at the variant again and queues one
more job if it moved meanwhile. Each push is recorded with a condition that it is newer than
the one recorded, so an older push can never be recorded over a newer one. Only the stock
path writes stock to a channel once a variant is listed: catalog edits leave it out.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from ..domain.catalog import Product, Variant
from ..domain.channels import (
    CatalogChange,
    CatalogChannel,
    ChannelItemState,
    ChannelListing,
    ChannelsChanged,
    ChannelView,
    Drift,
    ListedVariant,
    ListingOutcome,
    ListingStatus,
    ProductChanged,
    StockLevel,
    channel_view,
    drift_of,
    overall_status,
    product_link,
    shown_available,
    stale,
)
from ..domain.connections import Connection, ConnectionStatus, Platform
from ..domain.errors import PlatformError
from ..domain.events import Message, RetryLater
from ..domain.ids import Prefix
from ..domain.money import price_label
from ..domain.outbound import ChannelDriftData, Event, EventType, new_event
from ..domain.settings import MerchantSettings
from ..observability import count, logger
from .catalog import ProductStore
from .ports import Clock, ConnectionStore, Publisher

LIST_JOB = "channel.list_product"
LIST_ALL_JOB = "channel.list_catalog"
STOCK_JOB = "channel.push_stock"
LEASE = timedelta(seconds=30)
WAITS = 3  # deliveries a stock job waits for another worker's lease, then leaves it to it


class ListingStore(Protocol):
    def of_product(self, product_id: str) -> list[ChannelListing]: ...

    def save(self, listing: ChannelListing, check_at: Any) -> None: ...

    def record_push(
        self, listing: ChannelListing, variant_id: str, version: int, available: int, at: Any
    ) -> bool: ...

    def due_products(self, now: Any, limit: int = 100) -> list[str]: ...

    def checked(self, listing: ChannelListing, check_at: Any) -> None: ...

    def forget_push(self, listing: ChannelListing, variant_id: str) -> None: ...

    def forget_variant(self, listing: ChannelListing, variant_id: str) -> None: ...

    def report(self, event: Event) -> None: ...

    def claim_push(self, variant_id: str, now: Any, until: Any) -> bool: ...

    def release_push(self, variant_id: str, until: Any) -> None: ...


class ChannelCatalog(Protocol):
    """A platform's catalog, acting as the merchant's connection (adapters/platforms)."""

    def list_product(
        self,
        account_id: str,
        product: Product,
        variants: list[Variant],
        existing: ChannelListing | None,
        link: str,
    ) -> ListingOutcome: ...

    def push_stock(self, listing: ChannelListing, levels: list[StockLevel]) -> None: ...

    def listed_state(self, listing: ChannelListing) -> dict[str, ChannelItemState]:
        """What the channel shows for each listed variant (left out: not found there)."""
        ...


class ChannelPlatforms(Protocol):
    def channel(self, connection: Connection) -> ChannelCatalog: ...


class SettingsReader(Protocol):
    def get(self, merchant_id: str) -> MerchantSettings: ...


class CatalogStream(Protocol):
    def catalog_changes(self, record: dict[str, Any]) -> list[CatalogChange]: ...


@dataclass(frozen=True)
class Channels:
    listings: ListingStore
    products: ProductStore
    connections: ConnectionStore
    merchant_settings: SettingsReader
    platforms: ChannelPlatforms
    stream: CatalogStream
    queue: Publisher
    clock: Clock
    storefront_url: str
    reconcile_every: timedelta = timedelta(minutes=30)


# The channel accounts a merchant sells through


@dataclass(frozen=True)
class ChannelAccount:
    channel: CatalogChannel
    account_id: str
    connection: Connection


def channel_accounts(channels: Channels, merchant_id: str) -> list[ChannelAccount]:
    """Each active TikTok shop and Pinterest account, and the Meta catalog the settings name
    (reached through the Instagram connection, else the Facebook one)."""
    connected: list[Connection] = []
    cursor = None
    while True:
        page, cursor = channels.connections.page(merchant_id, 100, cursor)
        connected += [c for c in page if c.status == ConnectionStatus.ACTIVE]
        if cursor is None:
            break
    found = [
        ChannelAccount(CatalogChannel(c.platform.value), c.account_id, c)
        for c in connected
        if c.platform in (Platform.TIKTOK, Platform.PINTEREST)
    ]
    catalog_id = channels.merchant_settings.get(merchant_id).meta_catalog_id
    meta = sorted(
        (c for c in connected if c.platform in (Platform.INSTAGRAM, Platform.FACEBOOK)),
        key=lambda c: (c.platform != Platform.INSTAGRAM, c.created_at),
    )
    if catalog_id and meta:
        found.append(ChannelAccount(CatalogChannel.META, catalog_id, meta[0]))
    return found


# The stream: what changed, and which jobs it makes


def catalog_changed(channels: Channels, records: list[dict[str, Any]]) -> int:
    """Queue the channel jobs the stream records call for; returns how many. A product goes
    to its merchant's channels if it has any; a stock change only if the variant is listed
    somewhere with an older version."""
    queued = 0
    for record in records:
        for change in channels.stream.catalog_changes(record):
            if isinstance(change, ChannelsChanged):
                products, _ = channels.products.page(change.merchant_id, 1, None)
                if products and channel_accounts(channels, change.merchant_id):
                    _queue(channels, LIST_ALL_JOB, change.merchant_id)
                    queued += 1
                continue
            if isinstance(change, ProductChanged):
                if channel_accounts(channels, change.merchant_id):
                    new = "new" if change.created else "changed"
                    _queue(channels, LIST_JOB, change.merchant_id, product_id=change.product_id,
                           change=new)  # fmt: skip
                    queued += 1
                continue
            listings = channels.listings.of_product(change.product_id)
            if any(
                stale(listing.variants[change.variant_id], change.version)
                for listing in listings
                if change.variant_id in listing.variants
            ):
                _queue(channels, STOCK_JOB, change.merchant_id, variant_id=change.variant_id)
                queued += 1
    return queued


def _queue(channels: Channels, job: str, merchant_id: str, **data: str) -> None:
    channels.queue.publish(
        Message(
            id=channels.clock.new_id(Prefix.EVENT),
            type=job,
            merchant_id=merchant_id,
            occurred_at=channels.clock.now(),
            data=data,
        )
    )


# Listing a product


def list_product_job(channels: Channels, message: Message) -> None:
    product = channels.products.product(str(message.data.get("product_id")))
    if product is None:
        return
    # a new product may have gone to the channels already with its merchant's catalog
    list_product(channels, product, new_only=message.data.get("change") == "new")


def list_catalog_job(channels: Channels, message: Message) -> None:
    """A merchant's channels changed: each of its products goes where it is not listed."""
    merchant_id = str(message.merchant_id)
    cursor = None
    while True:
        products, cursor = channels.products.page(merchant_id, 100, cursor)
        for product in products:
            list_product(channels, product, new_only=True)
        if cursor is None:
            return


def list_product(
    channels: Channels, product: Product, only: CatalogChannel | None = None, new_only: bool = False
) -> list[ChannelListing]:
    """Create or edit the product on each of its merchant's channels and keep the
    platforms' verdicts. A temporary platform failure is raised (the job is delivered
    again; channels done already are edited, not created twice); a refusal rejects the
    listing with the platform's message."""
    variants = _in_order(product, channels.products.variants(product.variant_ids))
    existing = {
        (lst.channel, lst.account_id): lst for lst in channels.listings.of_product(product.id)
    }
    link = product_link(channels.storefront_url, product.id)
    done: list[ChannelListing] = []
    for account in channel_accounts(channels, product.merchant_id):
        if only is not None and account.channel != only:
            continue
        current = existing.get((account.channel, account.account_id))
        if new_only and current is not None:
            continue
        try:
            outcome = channels.platforms.channel(account.connection).list_product(
                account.account_id, product, variants, current, link
            )
        except PlatformError as error:
            if error.retryable:
                raise
            logger.warning("channel refused the product",
                           extra={"channel": account.channel, "error": error.message})  # fmt: skip
            count("ChannelListingsRefused", channel=account.channel)
            outcome = _refused(current, variants, error.message)
        listing = _listing(channels, product, account, outcome)
        now = channels.clock.now()
        channels.listings.save(listing, now + channels.reconcile_every)
        for variant in variants:  # new on the channel: sent with this version's stock
            known = current is not None and variant.id in current.variants
            if not known and listing.variants.get(variant.id, _NONE).external_id:
                channels.listings.record_push(listing, variant.id, variant.stock_version,
                                              shown_available(variant.available), now)  # fmt: skip
        done.append(listing)
    # stock that moved while the catalog was written is pushed by the stock path
    for variant in channels.products.variants(product.variant_ids):
        pushed = next((v.stock_version for v in variants if v.id == variant.id), -1)
        if variant.stock_version > pushed:
            _queue(channels, STOCK_JOB, product.merchant_id, variant_id=variant.id)
    return done


_NONE = ListedVariant(variant_id="", sku="")


def _in_order(product: Product, variants: list[Variant]) -> list[Variant]:
    by_id = {v.id: v for v in variants}
    return [by_id[v] for v in product.variant_ids if v in by_id]


def _refused(
    current: ChannelListing | None, variants: list[Variant], reason: str
) -> ListingOutcome:
    known = current.variants if current is not None else {}
    return ListingOutcome(
        external_product_id=current.external_product_id if current else None,
        variants={
            v.id: known.get(v.id, ListedVariant(variant_id=v.id, sku=v.sku)).model_copy(
                update={"status": ListingStatus.REJECTED, "reason": reason}
            )
            for v in variants
        },
    )


def _listing(
    channels: Channels, product: Product, account: ChannelAccount, outcome: ListingOutcome
) -> ChannelListing:
    status, reason = overall_status(outcome.variants)
    return ChannelListing(
        product_id=product.id,
        merchant_id=product.merchant_id,
        channel=account.channel,
        account_id=account.account_id,
        connection_id=account.connection.id,
        external_product_id=outcome.external_product_id,
        status=status,
        reason=reason,
        batch_handle=outcome.batch_handle,
        variants=outcome.variants,
        last_synced_at=channels.clock.now(),
    )


# Pushing stock


def push_stock_job(channels: Channels, message: Message) -> None:
    variant_id = str(message.data.get("variant_id"))
    found = channels.products.variants([variant_id])
    if not found or not _needs_push(channels, found[0]):
        return  # coalesced: a push of this version or a newer one happened already
    now = channels.clock.now()
    until = now + LEASE
    if not channels.listings.claim_push(variant_id, now, until):
        if message.attempt >= WAITS:
            logger.info("stock push left to the worker holding the lease")
            return
        raise RetryLater("another worker is pushing this variant's stock")
    try:
        pushed = _push(channels, variant_id)
    finally:
        channels.listings.release_push(variant_id, until)
    # a change committed while the lease was held found it taken: look again
    latest = channels.products.variants([variant_id])
    if pushed is not None and latest and latest[0].stock_version > pushed:
        _queue(channels, STOCK_JOB, latest[0].merchant_id, variant_id=variant_id)


def _needs_push(channels: Channels, variant: Variant) -> bool:
    return any(
        stale(listing.variants[variant.id], variant.stock_version)
        for listing in channels.listings.of_product(variant.product_id)
        if variant.id in listing.variants and listing.merchant_id == variant.merchant_id
    )


def _push(channels: Channels, variant_id: str) -> int | None:
    """Under the lease: the variant as it is now, to each channel holding an older version.
    Returns the version pushed; a temporary failure of a channel is raised once the others
    are done (the job is delivered again for it)."""
    found = channels.products.variants([variant_id])
    if not found:
        return None
    variant = found[0]
    failure: PlatformError | None = None
    for listing in channels.listings.of_product(variant.product_id):
        listed = listing.variants.get(variant.id)
        if (
            listed is None
            or listed.external_id is None
            or listing.merchant_id != variant.merchant_id
        ):
            continue
        if not stale(listed, variant.stock_version):
            continue
        connection = channels.connections.get(listing.connection_id)
        if connection is None or connection.merchant_id != variant.merchant_id:
            logger.warning("listing without its connection", extra={"channel": listing.channel})
            continue
        level = StockLevel(
            variant_id=variant.id,
            external_id=listed.external_id,
            available=variant.available,
            version=variant.stock_version,
        )
        try:
            channels.platforms.channel(connection).push_stock(listing, [level])
        except PlatformError as error:
            count("ChannelStockPushesFailed", channel=listing.channel)
            logger.warning("stock push failed", extra={"channel": listing.channel,
                                                      "error": error.message})  # fmt: skip
            if error.retryable:
                failure = error
            continue
        count("ChannelStockPushes", channel=listing.channel)
        shown = shown_available(variant.available)
        now = channels.clock.now()
        channels.listings.record_push(listing, variant.id, variant.stock_version, shown, now)
    if failure is not None:
        raise failure
    return variant.stock_version


# What the product shows


def channels_of(channels: Channels, product: Product) -> list[ChannelView]:
    return [
        channel_view(listing, product.variant_ids)
        for listing in channels.listings.of_product(product.id)
        if listing.merchant_id == product.merchant_id
    ]


# Reconciliation (the schedule)


def reconcile(channels: Channels) -> dict[str, int]:
    """Read back what each channel shows for the listings due (written or checked
    `reconcile_every` ago; a bounded number per run) and compare it with our stock and
    price. A variant whose stock moved since its last push is skipped (its push is on its
    way). Drift is repaired: stock pushed again whatever the version, a price or a missing
    item through the catalog job; and reported, one `channel.drift` event per product.
    Returns the run's figures (also counted: `ChannelItemsChecked`, `ChannelDrift`)."""
    checked = drifted = 0
    now = channels.clock.now()
    for product_id in channels.listings.due_products(now):
        product = channels.products.product(product_id)
        if product is None:
            continue
        variants = {v.id: v for v in channels.products.variants(product.variant_ids)}
        found: list[Drift] = []
        relist = False
        for listing in channels.listings.of_product(product_id):
            connection = channels.connections.get(listing.connection_id)
            if (
                listing.merchant_id != product.merchant_id
                or connection is None
                or connection.merchant_id != product.merchant_id
                or connection.status != ConnectionStatus.ACTIVE
            ):
                continue
            try:
                shown = channels.platforms.channel(connection).listed_state(listing)
            except PlatformError as error:
                logger.warning("channel not readable", extra={"channel": listing.channel,
                                                              "error": error.message})  # fmt: skip
                continue
            channels.listings.checked(listing, now + channels.reconcile_every)
            for variant_id, listed in listing.variants.items():
                variant = variants.get(variant_id)
                if variant is None or not listed.external_id:
                    continue
                if stale(listed, variant.stock_version):
                    continue
                checked += 1
                drift = drift_of(listing, variant_id, variant.available,
                                 price_label(variant.price), shown.get(variant_id))  # fmt: skip
                if not drift:
                    continue
                found += drift
                fields = {d.field for d in drift}
                if "missing" in fields:
                    channels.listings.forget_variant(listing, variant_id)
                elif fields & {"availability", "quantity"}:
                    channels.listings.forget_push(listing, variant_id)
                    _queue(channels, STOCK_JOB, product.merchant_id, variant_id=variant_id)
                relist = relist or bool(fields & {"price", "missing"})
        if relist:
            _queue(channels, LIST_JOB, product.merchant_id, product_id=product.id)
        if found:
            drifted += len({(d.channel, d.variant_id) for d in found})
            for d in found:
                count("ChannelDrift", channel=d.channel, field=d.field)
            channels.listings.report(
                new_event(
                    channels.clock.new_id(Prefix.EVENT),
                    EventType.CHANNEL_DRIFT,
                    product.merchant_id,
                    product.id,
                    ChannelDriftData(product_id=product.id, drift=found),
                    channels.clock.now(),
                )
            )
    count("ChannelItemsChecked", times=checked)
    return {"checked": checked, "drifted": drifted}
