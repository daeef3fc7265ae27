"""Payments as the payment provider reports them, in our terms (minor units)."""

from dataclasses import dataclass


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
