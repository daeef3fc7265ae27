"""The stream poller: Lambda's DynamoDB Streams event source mapping, for `@on_dynamodb_record`.

It reads the main table's stream shard by shard (moto's `dynamodbstreams` API), hands each
batch to the handler as one Lambda DynamoDB event, and does what the mapping does with
`ReportBatchItemFailures`: if the handler names a record in `batchItemFailures`, reading goes
on from that record (it and everything after it come again, in order); if the handler raises,
the whole batch comes again. Retries wait `SHOPPABLE_DEV_RETRY_SECONDS`. The emulator keeps one
shard per table, so the order of the records is the order of the writes.
"""

import logging
import threading
from typing import Any

from chalice import Chalice
from chalice.app import DynamoDBEventConfig
from chalice.config import Config

from .invoke import LambdaHandler, lambda_handler

logger = logging.getLogger(__name__)

IDLE_SECONDS = 0.2
STOP_WAIT_SECONDS = 10


class StreamReader:
    """Reads a stream from its start (TRIM_HORIZON), and goes back to a record on request.

    It keeps the last sequence number it read per shard, not a shard iterator: each read asks
    for a fresh iterator after that number. An iterator outlives its usefulness (DynamoDB's
    expire after 15 minutes; moto's point at a table that a failed transaction's rollback
    replaced with a copy, and then never see another record)."""

    def __init__(self, streams: Any, stream_arn: str, region: str):
        self._streams = streams
        self.stream_arn = stream_arn
        self._region = region
        self._positions: dict[str, tuple[str, str | None]] = {}  # shard -> (type, sequence)

    def _shards(self) -> list[str]:
        description = self._streams.describe_stream(StreamArn=self.stream_arn)
        return [s["ShardId"] for s in description["StreamDescription"]["Shards"]]

    def _iterator(self, shard: str, kind: str, sequence: str | None = None) -> str:
        extra = {"SequenceNumber": sequence} if sequence else {}
        return self._streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType=kind, **extra
        )["ShardIterator"]

    def read(self, limit: int) -> list[tuple[str, list[dict[str, Any]]]]:
        """(shard, records) for each shard with new records, records in Lambda's shape."""
        found = []
        for shard in self._shards():
            kind, sequence = self._positions.get(shard, ("TRIM_HORIZON", None))
            iterator = self._iterator(shard, kind, sequence)
            answer = self._streams.get_records(ShardIterator=iterator, Limit=limit)
            records = [self._lambda_record(r) for r in answer.get("Records", [])]
            if records:
                last = records[-1]["dynamodb"]["SequenceNumber"]
                self._positions[shard] = ("AFTER_SEQUENCE_NUMBER", last)
                found.append((shard, records))
        return found

    def rewind(self, shard: str, sequence: str) -> None:
        """Read again from the record with this sequence number."""
        self._positions[shard] = ("AT_SEQUENCE_NUMBER", sequence)

    def restart(self) -> None:
        """Read everything again from the start (a consumer must not mind)."""
        self._positions.clear()

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if created is not None and not isinstance(created, int | float):
            change["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": change, "eventSourceARN": self.stream_arn,
                "awsRegion": self._region}  # fmt: skip


def deliver(handler: LambdaHandler, reader: StreamReader, limit: int) -> tuple[int, bool]:
    """One read of every shard through the handler; returns (records, whether one failed)."""
    total, failed_any = 0, False
    for shard, records in reader.read(limit):
        total += len(records)
        try:
            answer = handler.invoke({"Records": records})
            failures = (answer or {}).get("batchItemFailures") or []
            failed = failures[0]["itemIdentifier"] if failures else None
        except Exception:
            logger.exception("%s raised: its batch comes again", handler.name)
            failed = records[0]["dynamodb"]["SequenceNumber"]
        if failed:
            reader.rewind(shard, failed)
            failed_any = True
    return total, failed_any


class StreamPoller:
    def __init__(self, handler: LambdaHandler, reader: StreamReader, batch_size: int,
                 retry_seconds: float):  # fmt: skip
        self._handler = handler
        self.name = handler.name
        self.reader = reader
        self._batch_size = batch_size
        self._retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"stream-{self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_WAIT_SECONDS)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                count, failed = deliver(self._handler, self.reader, self._batch_size)
            except Exception:
                logger.exception("reading %s failed; polling goes on", self.reader.stream_arn)
                count, failed = 0, True
            if failed:
                self._stop.wait(self._retry_seconds)
            elif not count:
                self._stop.wait(IDLE_SECONDS)


def stream_pollers(
    app: Chalice, config: Config, dynamodb: Any, streams: Any, table: str, region: str,
    retry_seconds: float,
) -> list[StreamPoller]:  # fmt: skip
    """One poller per `@on_dynamodb_record`, reading the main table's stream (the only table
    with one)."""
    pollers = []
    for source in app.event_sources:
        if not isinstance(source, DynamoDBEventConfig):
            continue
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        reader = StreamReader(streams, arn, region)
        handler = lambda_handler(app, config, source)
        pollers.append(StreamPoller(handler, reader, source.batch_size, retry_seconds))
    return pollers
