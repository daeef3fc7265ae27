"""Health: our version, the versions of the SDKs we talk through, and whether the table answers."""

import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Protocol

from ..domain.base import Model

SERVICE_VERSION = "0.1.0"


class Health(Model):
    status: str
    versions: dict[str, str]
    dependencies: dict[str, str]


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


class Probe(Protocol):
    def answers(self) -> bool: ...


def check(table: Probe) -> Health:
    dynamodb = "ok" if table.answers() else "unavailable"
    return Health(
        status="ok" if dynamodb == "ok" else "degraded",
        versions={
            "shoppable": SERVICE_VERSION,
            "python": platform.python_version(),
            "boto3": _version("boto3"),
            "stripe": _version("stripe"),
            "pydantic": _version("pydantic"),
        },
        dependencies={"dynamodb": dynamodb},
    )
