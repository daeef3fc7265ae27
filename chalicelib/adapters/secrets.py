"""Secrets Manager: where a deployed function's secrets come from.

The stack creates one secret per owner (Stripe's keys, the platforms' app secrets, the vault's
blind-index key), and neither the template nor the Lambda configuration holds a value: a
function's environment has only `SHOPPABLE_SECRET_ARNS`, the ARNs of the secrets its role may
read. Each secret is a JSON object keyed by the environment variables `Settings` reads:

    {"STRIPE_API_KEY": "sk_live_…", "SHOPPABLE_STRIPE_WEBHOOK_SECRET": "whsec_…"}

`SecretsManagerSource` is a settings source: on the first settings read (never at import) it
fetches each secret once per process and hands its values to `Settings` as if they were in the
environment. Real environment variables still win (tests, `make run`); without
`SHOPPABLE_SECRET_ARNS` it does nothing and boto3 is not even imported.

Why not CloudFormation dynamic references (`{{resolve:secretsmanager:…}}`) in the functions'
environment? They keep values out of the template, but put them in the Lambda configuration,
readable by whoever may call `lambda:GetFunctionConfiguration`, and a new value only arrives with
a stack update that changes the function. Here the values stay in Secrets Manager, only the
function's role can read them (each read is in CloudTrail), and a rotated value arrives with the
next cold start. The cost is one `GetSecretValue` per secret per cold start.

A secret the operator has not filled in yet (it has no value) is skipped with a warning, so
the settings' defaults apply; an unreadable or malformed secret stops the settings read with
`SecretsUnavailable`.
"""

import json
import os
from collections.abc import Mapping

from pydantic_settings import EnvSettingsSource

from ..errors import ShoppableError

SECRET_ARNS_VARIABLE = "SHOPPABLE_SECRET_ARNS"  # noqa: S105 (a variable name; comma-separated ARNs)


class SecretsUnavailable(ShoppableError):
    """A configured secret could not be read: an operator has to act."""

    status = 500
    type = "api_error"
    code = "secrets_unavailable"


def secret_arns(environ: Mapping[str, str] = os.environ) -> list[str]:
    return [arn.strip() for arn in environ.get(SECRET_ARNS_VARIABLE, "").split(",") if arn.strip()]


def read_secrets(client, arns: list[str]) -> dict[str, str]:
    """The variables held by the secrets `arns`, later secrets overriding earlier ones."""
    from botocore.exceptions import ClientError

    from ..observability import logger

    values: dict[str, str] = {}
    for arn in arns:
        try:
            response = client.get_secret_value(SecretId=arn)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException" and _secret_exists(client, arn):
                logger.warning(
                    "secret has no value yet; settings defaults apply", extra={"arn": arn}
                )
                continue
            raise SecretsUnavailable(f"Secret {arn} could not be read ({code}).") from error
        try:
            held = json.loads(response.get("SecretString") or "")
        except ValueError:
            held = None
        if not isinstance(held, dict) or not all(isinstance(v, str) for v in held.values()):
            raise SecretsUnavailable(
                f"Secret {arn} must be a JSON object of strings keyed by variable name."
            )
        values.update(held)
    return values


def _secret_exists(client, arn: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        client.describe_secret(SecretId=arn)
    except ClientError:
        return False
    return True


class SecretsManagerSource(EnvSettingsSource):
    """`Settings` values from the secrets named by `SHOPPABLE_SECRET_ARNS`."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        arns = secret_arns()
        if not arns:
            return {}
        import boto3
        from botocore.config import Config

        client = boto3.session.Session().client(
            "secretsmanager",
            region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2),
        )
        values = read_secrets(client, arns)
        # What the environment source does with os.environ: names folded unless case matters,
        # and an empty value is as good as none (a key the operator left blank).
        return {
            (name if self.case_sensitive else name.lower()): value
            for name, value in values.items()
            if value != ""
        }
