"""Reliability tests: faults, duplicates, fuzzing, forgery, tenant isolation, abuse, flash sale,
and the attacks on trust (issue #11).

The fixtures are the shared ones (tests/fixtures): the app in-process (`rt`, `api`,
`merchant`, …) and the `make run` stack (`devstack`). Tests add what they did to `figures`;
`make reliability` sets `SHOPPABLE_RELIABILITY_REPORT` and the figures of the run are
written there at the end. Tests marked `slow_reliability` run only there; `make test` runs
the rest, smaller.
"""

import os
import platform
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest


class Figures(Counter):
    """The run's counts, and the dead-lettered messages listed with their reasons."""

    def __init__(self):
        super().__init__()
        self.dead_letters: list[dict] = []


FIGURES = Figures()
_OUTCOMES: Counter = Counter()

# Each figure: its label, how it is measured, and what would make it non-zero (for a
# "must be 0") or what it tells. In the order RELIABILITY.md lists them.
FIGURES_EXPLAINED = {
    "faults_injected": ("faults injected (DynamoDB, SQS, KMS, Stripe attempts)",
        "attempts failed by the botocore `before-send` hook and the Stripe HTTP client "
        "(tests/reliability/faults.py), random 10 % and outages"),
    "faults_absorbed": ("faults absorbed by the SDKs' retries",
        "injected attempts of calls that then succeeded on botocore's (3 attempts) or "
        "stripe-python's (2 retries) own retry; 0 if those retries were turned off"),
    "faults_escaped": ("faults that reached our code (past the SDKs' retries)",
        "calls that failed to our code after the SDK gave up (`after-call` hooks, the "
        "Stripe client's last answer): each needed our recovery (503 and the buyer's retry, "
        "a checkout's discard, the consumer's failed record delivered again)"),
    "outages": ("outages (4-9 calls in a row to one service failed)",
        "started by the fault plan at 3 % of calls (fast run: 4 %)"),
    "kills": ("invocations killed right after a write (Lambda timeouts)",
        "a `Killed` raised after a successful DynamoDB/SQS write: no except clause runs; "
        "the client gets 504 and retries, or SQS delivers the batch again"),
    "consumer_failed": ("consumer records failed or killed, then delivered again",
        "counted by the harness's drain (batchItemFailures and killed batches); every one "
        "must end handled (or dead-lettered, listed below, and redriven)"),
    "checkouts": ("checkouts attempted under faults", "buyers in the fault runs"),
    "orders_paid": ("PaymentIntents succeeded at localstripe under faults",
        "listed at localstripe (stripe SDK) by the shop's metadata"),
    "orders_lost": ("orders lost (succeeded at localstripe, not `paid` or refunded there; "
        "must be 0)", "reconciled from localstripe's PaymentIntents and Refunds against "
        "GET /v1/orders; non-zero if a payment event were dropped (a swallowed consumer "
        "failure, a dead letter never redriven)"),
    "orders_unbacked": ("orders `paid` without a succeeded PaymentIntent (must be 0)",
        "the same reconciliation the other way; non-zero if an order were marked paid on a "
        "forged or mismatched event"),
    "oversold": ("units oversold (must be 0)",
        "units of paid and held orders beyond the stock, in the scarce fault runs "
        "(buyers >> stock) and the flash sale; non-zero if the reservation's condition "
        "were lost or a retried transaction reserved twice"),
    "scarce_buyers": ("scarce runs: buyers", "60 buyers per run for 10 units (fast: 24 for 8)"),
    "scarce_stock": ("scarce runs: units in stock", "the sum over the scarce runs"),
    "scarce_sold": ("scarce runs: units sold or held",
        "must equal the stock: every unit sold once, none twice"),
    "dead_lettered": ("messages dead-lettered under faults",
        "the ingest DLQ after each run, listed below with the reason of the last failure, "
        "then redriven and handled"),
    "replay_checked": ("checkout keys answered 201 and sent again",
        "after each fault run, each buyer's key is sent again"),
    "replayed": ("... that replayed their first answer",
        "must equal the line above (Powertools' idempotency record)"),
    "responses_5xx": ("5xx returned",
        "every API answer >= 500, retried ones included: 503s of outages and the "
        "dependency-down tests, 504s of killed invocations"),
    "responses_5xx_leaking": ("5xx leaking a stack trace (must be 0)",
        "5xx bodies searched for Traceback/File/botocore markers"),
    "money_concurrent_refunds": ("concurrent refunds raced",
        "two refunds of 60 % of one order, both having read it before either writes"),
    "money_over_refunded": ("minor units refunded at localstripe beyond what was paid (must "
        "be 0)", "Refunds listed at localstripe by PaymentIntent; non-zero without the "
        "order's `refundable >= :a` condition"),
    "money_paths_checked_at_stripe": ("refund paths checked at localstripe",
        "merchant refunds, cancel of a paid order, late payment without stock, payment after "
        "cancel: each refund looked up at localstripe with its amount"),
    "duplicate_deliveries": ("duplicate and shuffled deliveries", "test_duplicates.py"),
    "forgeries_rejected": ("forged webhooks rejected",
        "answered 400/401, counted before asserting"),
    "forgeries_queued": ("forged webhooks queued (must be 0)",
        "the ingest queue's depth after each forgery, counted before asserting it is 0"),
    "fuzz_cases": ("schemathesis cases (inputs tried)", "every operation, valid and invalid"),
    "fuzz_5xx": ("schemathesis 5xx (must be 0)", "answers >= 500 to generated inputs"),
    "fuzz_nonconforming": ("schemathesis responses not conforming to the schema (must be 0)",
        "status, content type or body not as the OpenAPI document says"),
    "isolation_examples": ("tenant-isolation examples (hypothesis)", "test_isolation.py"),
    "isolation_crossings": ("cross-merchant reads or writes (must be 0)",
        "a 2xx on another merchant's object, or its id in a listing"),
    "abuse_inputs": ("abusive inputs tried", "oversized, nested, huge and Unicode-edge inputs"),
    "abuse_stored": ("abusive inputs stored (must be 0)",
        "items in the main and vault tables after a refusal minus before"),
    "unicode_round_trips": ("Unicode edge cases accepted and read back unchanged",
        "across all 10 text fields, the buyer's from the vault's export"),
    "flash_buyers": ("flash-sale buyers", "200 concurrent buyers over HTTP on the make-run stack"),
    "flash_orders": ("flash-sale orders (stock 20)",
        "final answers 201: the stock, unless checkouts failed with 503 after reserving "
        "(their units held until expiry, counted in Details)"),
    "flash_409": ("flash-sale buyers answered 409 out_of_stock",
        "the rest: 201 + 409 must equal the buyers"),
    "flash_retried": ("flash-sale 429/503 answers with Retry-After, waited out and retried",
        "the contract's only other answers under load"),
    "flash_other": ("flash-sale final answers other than 201/409 (must be 0)",
        "anything else a buyer was left with"),
}  # fmt: skip
LABELS = {name: label for name, (label, _) in FIGURES_EXPLAINED.items()}
_STARTED = time.monotonic()

# The attacker suite (test_attacks.py): for each promise, attempts, refusals, and what got
# through (must be 0).
TRUST = {
    "guest_input": "anonymous checkouts with a known buyer's email (accepted and rejected)",
    "keys": "revoked, rolled, expired, wrong-mode and escalating API keys",
    "vault_callers": "vault commands with missing, forged, expired, misdirected assertions",
    "idempotency": "storefront Idempotency-Keys claimed first by someone else",
    "hoarding": "checkouts beyond the merchant's caps",
    "small_leaks": "health versions, an unflagged zero price",
}
for _name, _what in TRUST.items():
    LABELS[f"trust_{_name}_attempts"] = f"attacks: {_what}, attempts"
    LABELS[f"trust_{_name}_refused"] = f"attacks: {_what}, refused"
    LABELS[f"trust_{_name}_through"] = f"attacks: {_what}, got through (must be 0)"
LABELS["trust_vault_callers_audited"] = "attacks: refused vault commands audited"
LABELS["trust_hoarding_stock_counts_told"] = "attacks: refusals telling the stock count (must be 0)"
LABELS["trust_erasure_values_searched"] = (
    "erasure scan: an erased person's values looked for (tables, queues, logs)"
)
LABELS["trust_erasure_values_found"] = "erasure scan: values found (must be 0)"


@pytest.fixture(scope="session")
def figures() -> Counter:
    return FIGURES


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _OUTCOMES[report.outcome] += 1


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("SHOPPABLE_RELIABILITY_REPORT")
    if not target or not FIGURES:
        return
    rows = "\n".join(
        f"| {label} | {FIGURES.get(name, 0)} | {how} |"
        for name, (label, how) in FIGURES_EXPLAINED.items()
    )
    attacks = "\n".join(
        f"| {label} | {FIGURES.get(name, 0)} | the attacker suite (test_attacks.py) over HTTP on "
        "the make-run stack; a 'got through' or 'found' is non-zero if that promise broke |"
        for name, label in LABELS.items()
        if name not in FIGURES_EXPLAINED
    )
    extra = sorted(set(FIGURES) - set(LABELS))
    details = "".join(f"\n| {name} | {FIGURES[name]} |" for name in extra)
    dead = (
        "".join(f"\n- `{d['type']}` ({d['id']}): {d['reason']}" for d in FIGURES.dead_letters)
        or "\n- none"
    )
    minutes = (time.monotonic() - _STARTED) / 60
    Path(target).write_text(
        "# Reliability: the figures of the last run\n\n"
        "Regenerated by `make reliability` (tests/reliability, slow parts included). "
        "Do not edit by hand.\n\n"
        f"- run at: {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"- python: {platform.python_version()}\n"
        f"- tests: {_OUTCOMES.get('passed', 0)} passed, {_OUTCOMES.get('failed', 0)} failed, "
        f"{_OUTCOMES.get('skipped', 0)} skipped (exit status {int(exitstatus)})\n"
        f"- run time: {minutes:.0f} min\n\n"
        "| figure | value | how it is measured; what would make it non-zero |\n|---|---|---|\n"
        f"{rows}\n{attacks}\n\n"
        "## Dead-lettered messages (each redriven and handled after its run)\n"
        f"{dead}\n\n"
        "## Details\n\n| count | value |\n|---|---|"
        f"{details}\n\n"
        "What each part checks: see the docstrings of tests/reliability/test_*.py.\n"
    )
