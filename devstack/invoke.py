"""Calling the app's event handlers the way Lambda calls them.

Chalice keeps every handler it deploys as a Lambda function in `app.handler_map`, wrapped so
that it takes Lambda's `(event, context)`; the poller and the scheduler call those wrappers,
with the event shape Lambda would send and a context carrying the function's deployed name,
memory and timeout from `.chalice/config.json`. So a handler runs here through the same
middleware and event classes as in AWS. (Per-function environment variables from the config
are not applied: the stack is one process with one environment.)
"""

from dataclasses import dataclass
from typing import Any

from chalice import Chalice
from chalice.app import BaseEventSourceConfig
from chalice.config import Config
from chalice.local import LambdaContext

DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class LambdaHandler:
    name: str
    function_name: str
    handler: Any  # chalice's EventSourceHandler: handler(event, context)
    memory_mb: int
    timeout_seconds: int

    def invoke(self, event: dict) -> Any:
        context = LambdaContext(
            self.function_name, self.memory_mb, max_runtime_ms=self.timeout_seconds * 1000
        )
        return self.handler(event, context)


def lambda_handler(app: Chalice, config: Config, source: BaseEventSourceConfig) -> LambdaHandler:
    stage = config.chalice_stage
    scoped = config.scope(stage, source.name)
    return LambdaHandler(
        name=source.name,
        function_name=f"{app.app_name}-{stage}-{source.name}",
        handler=app.handler_map[source.name],
        memory_mb=scoped.lambda_memory_size or DEFAULT_MEMORY_MB,
        timeout_seconds=scoped.lambda_timeout or DEFAULT_TIMEOUT_SECONDS,
    )
