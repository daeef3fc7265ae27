"""Operator commands.

    python -m devstack.cli merchant create --name "Acme" [--scopes a,b] [--currency EUR]
    python -m devstack.cli merchant add-key --merchant mer_… --scopes customers:read:support
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
once: only its hash is kept.
"""

import argparse
import json
import sys
from pathlib import Path

from chalicelib.domain.merchants import ALL_SCOPES, Scope
from chalicelib.domain.money import ISO_4217
from chalicelib.errors import NotFound
from chalicelib.runtime import runtime
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
    create.add_argument("--live", action="store_true", help="issue an sk_live_ key")
    add_key = merchant_commands.add_parser("add-key", help="issue another key, e.g. narrower")
    add_key.add_argument("--merchant", required=True, help="the merchant's id, mer_…")
    add_key.add_argument("--scopes", type=_scopes, required=True, help="comma-separated")
    add_key.add_argument("--live", action="store_true", help="issue an sk_live_ key")
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

    if args.command == "merchant" and args.action == "add-key":
        rt = runtime()
        try:
            issued = issue_key(rt.merchants, args.merchant, args.scopes, args.live)
        except NotFound as missing:
            parser.error(missing.message)
        _show_key(args.merchant, issued.secret, issued.api_key.scopes)

    if args.command == "merchant" and args.action == "create":
        name = args.name.strip()
        if not name or len(name) > 200:
            parser.error("--name must be 1 to 200 characters")
        rt = runtime()
        created = create_merchant(rt.merchants, name, args.scopes, args.currency, live=args.live)
        _show_key(created.merchant.id, created.secret, created.api_key.scopes)
    return 0


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
