"""Operator commands.

    python -m chalicelib.cli merchant create --name "Acme" [--scopes a,b] [--currency EUR]
    python -m chalicelib.cli merchant add-key --merchant mer_… --scopes customers:read:support

It talks to the table named by the environment (SHOPPABLE_MAIN_TABLE, AWS_REGION, and
AWS_ENDPOINT_URL for an emulator) and prints the new API key once: only its hash is kept.
"""

import argparse
import json
import sys

from .domain.merchants import ALL_SCOPES, Scope
from .domain.money import ISO_4217
from .errors import NotFound
from .runtime import runtime
from .services.merchants import create_merchant, issue_key


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
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli")
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
    args = parser.parse_args(argv)

    if args.command == "merchant" and args.action == "add-key":
        rt = runtime()
        try:
            issued = issue_key(rt.merchants, rt.clock, args.merchant, args.scopes, args.live)
        except NotFound as missing:
            parser.error(missing.message)
        _show_key(args.merchant, issued.secret, issued.api_key.scopes)

    if args.command == "merchant" and args.action == "create":
        name = args.name.strip()
        if not name or len(name) > 200:
            parser.error("--name must be 1 to 200 characters")
        rt = runtime()
        created = create_merchant(
            rt.merchants, rt.clock, name, args.scopes, args.currency, live=args.live
        )
        _show_key(created.merchant.id, created.secret, created.api_key.scopes)
    return 0


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
