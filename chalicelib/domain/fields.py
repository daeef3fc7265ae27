"""Field types shared by the request models."""

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints


def _https_url(value: str) -> str:
    if not value.startswith("https://") or len(value) <= len("https://") or " " in value:
        raise ValueError("must be an https:// URL")
    return value


HttpsUrl = Annotated[str, Field(max_length=2048), AfterValidator(_https_url)]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ObjectId = Annotated[str, Field(min_length=3, max_length=64)]
