"""Start-up on a budget: modules and models loaded on first use, not when `app` is imported.

Every Lambda function of the stack (the API, the queue consumer, the schedules, the vault)
imports `app.py`, but each needs only its own part of it. pydantic and the models alone cost
more than boto3 and chalice together, so `app.py` names its services as lazy modules and its
request and response models by reference ("domain.catalog:ProductCreate"); they load on the
first request that needs them.
"""

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

PACKAGE = "chalicelib"


def lazy_module(name: str) -> ModuleType:
    """The module, executed on its first attribute access (importlib's LazyLoader)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def resolve(reference: Any) -> Any:
    """A model from its reference: "module:Name" under chalicelib, "…[]" for a list page of
    it; anything that is not a string is returned as it is."""
    if not isinstance(reference, str):
        return reference
    many = reference.endswith("[]")
    module, _, name = reference.removesuffix("[]").partition(":")
    model = getattr(importlib.import_module(f"{PACKAGE}.{module}"), name)
    if many:
        from .domain.listing import ListOf

        return ListOf[model]
    return model
