"""SQS: publishing our messages. Queue URLs are looked up once per queue and reused."""

from botocore.exceptions import ClientError

from ..domain.events import Message
from ..errors import ServiceUnavailable


class Queue:
    def __init__(self, client, name: str):
        self.client = client
        self.name = name
        self._url: str | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self.client.get_queue_url(QueueName=self.name)["QueueUrl"]
        return self._url

    def publish(self, message: Message) -> None:
        try:
            self.client.send_message(QueueUrl=self.url, MessageBody=message.model_dump_json())
        except ClientError as error:
            raise ServiceUnavailable("The queue is unavailable; retry.") from error
