"""The base of every model of ours.

Each Lambda function imports all the models its module names, but one invocation uses a few:
a model's validator is built on its first use instead of at import (pydantic's
`defer_build`), so a cold start pays only for the models its first request needs.
"""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
