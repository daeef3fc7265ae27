"""Which stack an operator command talks to: the local `make run` stack, or one on AWS.

`--stack auto` (the default) chooses the local stack when `.shoppable/dev.json` (or
`$SHOPPABLE_DEV_DIR/dev.json`) belongs to a `make run` that is still running and the
environment names no AWS target of its own (`AWS_PROFILE`, `AWS_ENDPOINT_URL`,
`SHOPPABLE_MAIN_TABLE`); otherwise AWS. `--stack local` insists on the running stack, and
`--stack aws` never looks at dev.json.

For the local stack a command gets what the stack's own processes have: the emulator's
endpoint and its fake credentials (no real account can be reached with them), the stack's
table names and the Stripe stand-in, so nothing has to be exported by hand. For AWS nothing is
set: boto3 finds credentials through its usual chain (environment, profile, SSO, role). Either
way the command says on stderr which stack it talks to, before it changes anything.
"""

import json
import os
import sys
from dataclasses import dataclass

from .devfile import FILE_NAME, dev_dir
from .environment import EMULATOR_CREDENTIALS

CHOICES = ("auto", "local", "aws")
# Set by an operator who means a stack on AWS: then `auto` leaves dev.json alone.
AWS_TARGET_VARIABLES = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "SHOPPABLE_MAIN_TABLE")


class NoLocalStack(Exception):
    pass


@dataclass(frozen=True)
class Stack:
    local: bool
    description: str
    dev: dict | None = None  # dev.json, for the local stack


def running_dev_stack() -> dict | None:
    """dev.json, if the `make run` that wrote it is still running."""
    path = dev_dir() / FILE_NAME
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    pid = info.get("pid")
    if not isinstance(pid, int):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # left behind by a stack that was killed
    except PermissionError:
        pass  # alive, another user's
    return info


def choose(choice: str = "auto") -> Stack:
    """Pick the stack and point this process's environment at it (before any client exists)."""
    dev = running_dev_stack() if choice != "aws" else None
    if choice == "local" and dev is None:
        raise NoLocalStack(
            f"No running `make run` stack: {dev_dir() / FILE_NAME} is missing or stale. "
            "Start one with `make run`, or use --stack aws."
        )
    named = [name for name in AWS_TARGET_VARIABLES if os.environ.get(name)]
    if dev is not None and (choice == "local" or not named):
        _point_at(dev)
        return Stack(
            local=True,
            description=(
                f"the local stack (make run, {dev_dir() / FILE_NAME}): "
                f"API {dev['api_base']}, AWS emulator {dev['aws_endpoint_url']}"
            ),
            dev=dev,
        )
    from chalicelib.config import get_settings

    settings = get_settings()
    profile = os.environ.get("AWS_PROFILE")
    credentials = f"profile {profile}" if profile else "the default credential chain"
    return Stack(
        local=False,
        description=(
            f"AWS: region {settings.region}, table {settings.main_table}, "
            f"credentials from {credentials}"
            + (f", endpoint {settings.aws_endpoint_url}" if settings.aws_endpoint_url else "")
        ),
    )


def announce(stack: Stack) -> None:
    print(f"Talking to {stack.description}.", file=sys.stderr, flush=True)


def _point_at(dev: dict) -> None:
    from chalicelib import runtime

    env = os.environ
    for name in list(env):
        if name in ("AWS_PROFILE", "AWS_SESSION_TOKEN") or name.startswith("AWS_ENDPOINT_URL_"):
            del env[name]
    env.update(EMULATOR_CREDENTIALS)
    env.update(
        AWS_ENDPOINT_URL=dev["aws_endpoint_url"],
        AWS_REGION=dev["aws_region"],
        AWS_DEFAULT_REGION=dev["aws_region"],
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        AWS_EC2_METADATA_DISABLED="true",
    )
    if dev.get("main_table"):
        env["SHOPPABLE_MAIN_TABLE"] = dev["main_table"]
    runtime.reset()
