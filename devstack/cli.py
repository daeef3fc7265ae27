"""Operator commands.

    python -m devstack.cli merchant create --name "Acme" [--scopes a,b] [--currency EUR]
    python -m devstack.cli merchant add-key --merchant mer_… --scopes customers:read:support
    python -m devstack.cli key list --merchant mer_…
    python -m devstack.cli key create --merchant mer_… --scopes a,b [--expires-at 2030-01-01T00:00Z]
    python -m devstack.cli key roll --merchant mer_… --key key_… [--grace-seconds 86400]
    python -m devstack.cli key revoke --merchant mer_… --key key_…
    python -m devstack.cli send-event events/<sample>.json   (signed, to the make-run API)
    python -m devstack.cli send-event tests/platform_samples/<platform>/<sample>.json
    python -m devstack.cli connect instagram [--key sk_…] [--browser]   (to the make-run API)
    python -m devstack.cli dlq redrive --queue shoppable-prod-ingest [--max 100]
    python -m devstack.cli listen [--port 4242] [--events order.created,order.paid]

    python -m devstack.cli --stack aws …   (never the local stack; see devstack/stacks.py)

With `make run` going, every command talks to that local stack, found through
`.shoppable/dev.json`; otherwise, or with `--stack aws`, to the stack on AWS that the
environment names (AWS_REGION, SHOPPABLE_MAIN_TABLE, credentials through boto3's usual
chain). Each command first says on stderr which stack it talks to. A new API key is printed
once: only its hash is kept. The keys it issues are of the stack's mode (SHOPPABLE_STAGE: a
live stage issues sk_live_ keys, any other sk_test_ keys), since a stack refuses keys of the
other mode.
"""

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

from chalicelib.domain.merchants import ALL_SCOPES, MAX_GRACE_SECONDS, KeyCreate, KeyRoll, Scope
from chalicelib.domain.money import ISO_4217
from chalicelib.errors import NotFound, ShoppableError
from chalicelib.runtime import runtime
from chalicelib.services import merchants as keys
from chalicelib.services.merchants import create_merchant, issue_key

from . import stacks


def _scopes(text: str) -> frozenset[Scope]:
    try:
        return frozenset(Scope(s.strip()) for s in text.split(",") if s.strip())
    except ValueError as error:
        known = ", ".join(sorted(ALL_SCOPES))
        raise argparse.ArgumentTypeError(f"{error}; known scopes: {known}") from None


def _currency(text: str) -> str:
    if text not in ISO_4217:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO 4217 currency code")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.cli")
    parser.add_argument(
        "--stack",
        choices=stacks.CHOICES,
        default="auto",
        help="auto (default): the running `make run` stack if there is one, else AWS",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    merchant = commands.add_parser("merchant", help="merchants and their keys")
    merchant_commands = merchant.add_subparsers(dest="action", required=True)
    create = merchant_commands.add_parser("create", help="create a merchant and its first key")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--scopes", type=_scopes, default=ALL_SCOPES, help="comma-separated; default: every scope"
    )
    create.add_argument("--currency", type=_currency, default="EUR")
    create.add_argument(
        "--live", action="store_true", help="expect a live stage (SHOPPABLE_STAGE), else fail"
    )
    add_key = merchant_commands.add_parser("add-key", help="issue another key, e.g. narrower")
    add_key.add_argument("--merchant", required=True, help="the merchant's id, mer_…")
    add_key.add_argument("--scopes", type=_scopes, required=True, help="comma-separated")
    add_key.add_argument(
        "--live", action="store_true", help="expect a live stage (SHOPPABLE_STAGE), else fail"
    )
    key = commands.add_parser("key", help="a merchant's API keys: list, create, roll, revoke")
    key_commands = key.add_subparsers(dest="action", required=True)
    for action, about in [
        ("list", "the merchant's keys: prefix, scopes, created, last used"),
        ("create", "a new key, printed once"),
        ("roll", "a new secret for a key; the old one works for the grace period"),
        ("revoke", "revoke a key now"),
    ]:
        sub = key_commands.add_parser(action, help=about)
        sub.add_argument("--merchant", required=True, help="the merchant's id, mer_…")
        if action in ("roll", "revoke"):
            sub.add_argument("--key", required=True, help="the key's id, key_…")
        if action == "create":
            sub.add_argument("--scopes", type=_scopes, required=True, help="comma-separated")
            sub.add_argument("--expires-at", type=_moment, help="ISO 8601 with offset")
        if action == "roll":
            sub.add_argument(
                "--grace-seconds", type=_grace, default=86400,
                help=f"how long the old secret keeps working (0 to {MAX_GRACE_SECONDS})",
            )  # fmt: skip
    send_event = commands.add_parser(
        "send-event",
        help="sign a sample delivery (events/…, or a platform's own sample in"
        " tests/platform_samples) and post it to the make-run API",
    )
    send_event.add_argument("file", help="e.g. events/meta-instagram-comment.json")
    send_event.add_argument(
        "--order",
        help="for a Stripe sample about an order: this order (ord_…) instead of a new checkout",
    )
    connect = commands.add_parser(
        "connect",
        help="connect a merchant's account on the make-run stack through the platform's OAuth "
        "redirect flow (the platform stand-in approves at once)",
    )
    connect.add_argument("platform", choices=["instagram", "facebook", "tiktok", "x", "pinterest"])
    connect.add_argument("--key", help="the merchant's API key (default: the demo shop's)")
    connect.add_argument(
        "--browser",
        action="store_true",
        help="open the consent URL in a browser instead of following it here",
    )
    dlq = commands.add_parser("dlq", help="dead-letter queues")
    dlq_commands = dlq.add_subparsers(dest="action", required=True)
    redrive = dlq_commands.add_parser(
        "redrive", help="move a queue's dead letters back to it, once their cause is fixed"
    )
    redrive.add_argument("--queue", required=True, help="the work queue's name (not the -dlq)")
    redrive.add_argument("--max", type=_positive, help="move at most this many (default: all)")
    listen = commands.add_parser(
        "listen", help="receive the demo merchant's webhooks here and print each verified one"
    )
    listen.add_argument("--port", type=_positive, default=4242)
    listen.add_argument("--events", default="*", help="comma-separated event types; default all")
    listen.add_argument("--secret", help="verify with this whsec_ secret; register nothing")
    args = parser.parse_args(argv)
    try:
        local_only = args.command in ("send-event", "connect")  # the make-run API's commands
        stack = stacks.choose("local" if local_only else args.stack)
    except stacks.NoLocalStack as missing:
        parser.error(str(missing))
    stacks.announce(stack)

    if args.command == "listen":
        from .listen import listen as run_listener

        events = [e.strip() for e in args.events.split(",") if e.strip()]
        return run_listener(args.port, events, args.secret)

    if args.command == "dlq" and args.action == "redrive":
        return _redrive(args.queue, args.max)

    if args.command == "send-event":
        return _send_event(parser, args.file, args.order)

    if args.command == "connect":
        return _connect(parser, args.platform, args.key, args.browser)

    if args.command == "key":
        return _keys(parser, args)

    if args.command == "merchant":
        rt = runtime()
        if args.live and not rt.settings.live:
            parser.error(
                f"--live: stage {rt.settings.stage!r} is not a live stage and would refuse "
                "sk_live_ keys; set SHOPPABLE_STAGE (live stages: "
                f"{', '.join(rt.settings.live_stages)})"
            )

    if args.command == "merchant" and args.action == "add-key":
        try:
            issued = issue_key(rt.merchants, args.merchant, args.scopes)
        except NotFound as missing:
            parser.error(missing.message)
        _show_key(args.merchant, issued.secret, issued.api_key.scopes)

    if args.command == "merchant" and args.action == "create":
        name = args.name.strip()
        if not name or len(name) > 200:
            parser.error("--name must be 1 to 200 characters")
        created = create_merchant(rt.merchants, name, args.scopes, args.currency)
        _show_key(created.merchant.id, created.secret, created.api_key.scopes)
    return 0


def _keys(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    rt = runtime()
    if rt.merchants.store.get(args.merchant) is None:
        parser.error(f"No such merchant: '{args.merchant}'.")
    operator = keys.operator(rt.merchants, args.merchant)
    try:
        if args.action == "list":
            found, cursor, shown = None, None, []
            while True:
                found, cursor = keys.list_keys(rt.merchants, args.merchant, 100, cursor)
                shown += [k.model_dump(mode="json") for k in found]
                if cursor is None:
                    break
            result: object = {"data": shown}
        elif args.action == "create":
            request = KeyCreate(scopes=sorted(args.scopes), expires_at=args.expires_at)
            result = keys.create_key(rt.merchants, operator, request).model_dump(mode="json")
        elif args.action == "roll":
            request_roll = KeyRoll(grace_seconds=args.grace_seconds)
            rolled = keys.roll_key(rt.merchants, operator, args.key, request_roll)
            result = rolled.model_dump(mode="json")
        else:
            result = keys.revoke_key(rt.merchants, operator, args.key).model_dump(mode="json")
    except ShoppableError as refused:
        print(refused.message, file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("give the time with its offset, e.g. 2030-01-01T00:00Z")
    return moment


def _grace(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_GRACE_SECONDS:
        raise argparse.ArgumentTypeError(f"0 to {MAX_GRACE_SECONDS} seconds")
    return int(text)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive whole number")
    return int(text)


def _redrive(queue: str, limit: int | None) -> int:
    from chalicelib.adapters.dead_letters import RedriveFailed, redrive

    try:
        done = redrive(runtime().sqs, queue, limit)
    except RedriveFailed as failed:
        print(failed.message, file=sys.stderr)
        return 2
    json.dump(
        {
            "queue": done.queue,
            "dead_letter_queue": done.dead_letter_queue,
            "moved": done.moved,
            "failed": done.failed,
            "left_in_dead_letter_queue": done.left,
        },
        sys.stdout,
        indent=2,
    )
    print()
    return 0 if not done.failed else 1


def _send_event(parser: argparse.ArgumentParser, file: str, order_id: str | None) -> int:
    from .sample_events import SampleError, send

    dev = stacks.running_dev_stack()
    assert dev is not None  # `choose("local")` made sure
    try:
        status, body, order = send(Path(file), dev, order_id)
    except (SampleError, ValueError) as refused:
        parser.error(str(refused))
    if order is not None:
        print(f"about order {order['id']} ({order['status']}), PaymentIntent "
              f"{order['payment_intent_id']}")  # fmt: skip
    print(status, body)
    return 0 if status < 300 else 1


def _connect(parser: argparse.ArgumentParser, platform: str, key: str | None, browser: bool) -> int:
    from .connect import ConnectFailed, authorize_url, follow

    dev = stacks.running_dev_stack()
    assert dev is not None  # `choose("local")` made sure
    try:
        url = authorize_url(dev["api_base"], key or dev["api_key"], platform)
        print(f"Consent URL (valid 10 minutes, once):\n  {url}", flush=True)
        if browser:
            import webbrowser

            webbrowser.open(url)
            return 0
        status, body = follow(url)
    except ConnectFailed as failed:
        print(failed, file=sys.stderr)
        return 1
    print(status, json.dumps(body, indent=2))
    return 0 if status == 200 else 1


def _show_key(merchant_id: str, secret: str, scopes) -> None:
    shown = {
        "merchant_id": merchant_id,
        "api_key": secret,
        "scopes": sorted(scopes),
        "note": "The key is shown this once; only its hash is stored.",
    }
    json.dump(shown, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    sys.exit(main())
