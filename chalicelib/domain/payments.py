"""Payments as the payment provider reports them, in our terms (minor units)."""

from dataclasses import dataclass

# The PaymentIntent metadata key naming the stack that created it: a Stripe account shared by
# several stacks (regions, stages) sends each of them the others' events too.
STACK_KEY = "shoppable_stack"


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    client_secret: str
    status: str


@dataclass(frozen=True)
class Refund:
    id: str
    amount: int
    status: str
