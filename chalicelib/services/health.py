"""Health: our version, and whether the table answers.

It is public, so it says nothing an attacker could use: no SDK, runtime or library versions
(they would point at the advisories to try)."""

from typing import Protocol

from ..domain.base import Model

SERVICE_VERSION = "0.1.0"


class Health(Model):
    status: str
    versions: dict[str, str]
    dependencies: dict[str, str]


class Probe(Protocol):
    def answers(self) -> bool: ...


def check(table: Probe) -> Health:
    dynamodb = "ok" if table.answers() else "unavailable"
    return Health(
        status="ok" if dynamodb == "ok" else "degraded",
        versions={"shoppable": SERVICE_VERSION},
        dependencies={"dynamodb": dynamodb},
    )
