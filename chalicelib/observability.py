"""Structured JSON logs, one line per event, with the request or message id and the merchant id;
and counters, as CloudWatch embedded metrics written to the same output.

Personal data never goes into a log: log ids and tokens, never bodies or customer fields.
"""

from aws_lambda_powertools import Logger

logger = Logger(service="shoppable")

NAMESPACE = "Shoppable"


def count(name: str, times: int = 1, **dimensions: str) -> None:
    """Add one (or `times`) to the metric `name` (e.g. `WebhookEventsIgnored`, by `reason`):
    a line of CloudWatch's embedded metric format, which CloudWatch turns into a metric."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    with single_metric(
        name=name, unit=MetricUnit.Count, value=times, namespace=NAMESPACE
    ) as metric:
        for key, value in dimensions.items():
            metric.add_dimension(name=key, value=str(value)[:250] or "-")
