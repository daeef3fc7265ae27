"""Scheduled handlers: every `@app.schedule(...)` runs locally, as EventBridge would run it.

Each schedule gets a thread that invokes the handler with a Lambda-shaped "Scheduled Event"
every `rate(...)`, but at least every `SHOPPABLE_DEV_SCHEDULE_SECONDS` (default 30), so an
hourly job can be watched at work during development. Cron expressions run at that local
interval too. As with EventBridge, the first run comes one interval after the start. A
failing run is logged; the next one comes on time.
"""

import logging
import re
import threading
import uuid
from datetime import UTC, datetime

from chalice import Chalice
from chalice.app import ScheduledEventConfig, ScheduleExpression
from chalice.config import Config

from .invoke import LambdaHandler, lambda_handler

logger = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 1.0
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\((\d+) (minute|hour|day)s?\)")


def interval_seconds(expression: str | ScheduleExpression, cap: float) -> float:
    """How often to run locally: the rate, but at least every `cap` seconds."""
    text = expression.to_string() if isinstance(expression, ScheduleExpression) else expression
    match = _RATE.fullmatch(text.strip())
    seconds = cap if match is None else min(int(match[1]) * _UNIT_SECONDS[match[2]], cap)
    return max(seconds, MIN_INTERVAL_SECONDS)  # cron(...) runs at the local interval


def scheduled_event(rule_arn: str, region: str, account_id: str) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


class ScheduleRunner:
    def __init__(self, handler: LambdaHandler, interval: float, region: str, account_id: str):
        self._handler = handler
        self.name = handler.name
        self.interval = interval
        self._region = region
        self._account_id = account_id
        self._rule_arn = f"arn:aws:events:{region}:{account_id}:rule/{handler.function_name}-event"
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"schedule-{handler.name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def run_once(self) -> None:
        try:
            result = self._handler.invoke(
                scheduled_event(self._rule_arn, self._region, self._account_id)
            )
            logger.info("scheduled %s ran: %r", self._handler.name, result)
        except Exception:
            logger.exception(
                "scheduled %s failed; it runs again in %.0f s", self._handler.name, self.interval
            )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()


def schedule_runners(
    app: Chalice, config: Config, region: str, account_id: str, cap_seconds: float
) -> list[ScheduleRunner]:
    return [
        ScheduleRunner(
            lambda_handler(app, config, source),
            interval_seconds(source.schedule_expression, cap_seconds),
            region,
            account_id,
        )
        for source in app.event_sources
        if isinstance(source, ScheduledEventConfig)
    ]
