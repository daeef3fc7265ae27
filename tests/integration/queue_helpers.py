"""The ingest queue run through `on_ingest` as Lambda's SQS integration runs it."""


def run_ingest_batch(api, rt, sqs, url: str, received: list[dict]) -> set[str]:
    """One received batch through the consumer: records it reports as failed (all of them if
    the invocation raises) become visible again at once, as after the visibility timeout; the
    rest are deleted. Each record carries its message's receive count when the batch was
    received with it (`MessageSystemAttributeNames=["ApproximateReceiveCount"]`), as Lambda's
    do. Returns the failed message ids."""
    event = api.client.events.generate_sqs_event(
        queue_name=rt.settings.ingest_queue, message_bodies=[m["Body"] for m in received]
    )
    for record, message in zip(event["Records"], received, strict=True):
        record["messageId"] = message["MessageId"]
        count = message.get("Attributes", {}).get("ApproximateReceiveCount")
        if count:
            record["attributes"]["ApproximateReceiveCount"] = count
    try:
        answer = api.client.lambda_.invoke("on_ingest", event).payload
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
    except Exception:  # an invocation that raises fails its whole batch
        failed = {m["MessageId"] for m in received}
    for message in received:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return failed
