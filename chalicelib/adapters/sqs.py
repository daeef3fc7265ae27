"""SQS: publishing our messages. Queue URLs are looked up once per queue and reused."""

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from ..domain.events import Message
from ..errors import ServiceUnavailable
from .aws import unavailable_when_unreachable


class Queue:
    def __init__(self, client: Any, name: str):
        self.client = client
        self.name = name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            with unavailable_when_unreachable("The queue"):
                self._url = self.client.get_queue_url(QueueName=self.name)["QueueUrl"]
        return self._url

    def publish(self, message: Message, delay_seconds: int = 0) -> None:
        try:
            with unavailable_when_unreachable("The queue"):
                self.client.send_message(
                    QueueUrl=self.url,
                    MessageBody=message.model_dump_json(),
                    DelaySeconds=delay_seconds,
                )
        except ClientError as error:
            raise ServiceUnavailable("The queue is unavailable; retry.") from error

    def publish_all(self, messages: Sequence[Message]) -> None:
        """Up to ten messages per call; any message not taken fails the whole call."""
        if len(messages) == 1:  # the common delivery: the plain call is the cheaper one
            self.publish(messages[0])
            return
        for start in range(0, len(messages), 10):
            entries = [
                {"Id": str(n), "MessageBody": m.model_dump_json()}
                for n, m in enumerate(messages[start : start + 10])
            ]
            try:
                with unavailable_when_unreachable("The queue"):
                    answer = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
            except ClientError as error:
                raise ServiceUnavailable("The queue is unavailable; retry.") from error
            if answer.get("Failed"):
                raise ServiceUnavailable("The queue did not take every message; retry.")
