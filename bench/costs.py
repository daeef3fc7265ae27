"""The AWS bill of metered work, from the dated price table `bench/prices.json`."""

import json
from pathlib import Path

from bench.metering import Usage

PRICES = Path(__file__).with_name("prices.json")
REGIONS = ("us-east-1", "eu-west-1")


def prices() -> dict:
    return json.loads(PRICES.read_text())


def bill(usage: Usage, orders: int, region: str, per: int = 1000) -> dict[str, float]:
    """USD for `per` orders like the `orders` metered, by line of the bill."""
    table = prices()
    price = table["regions"][region]
    gigabytes = table["assumptions"]["lambda_memory_mb"] / 1024
    scale = per / orders
    seconds = sum(usage.lambda_ms.values()) / 1000
    return {
        "Lambda requests": sum(usage.lambda_invocations.values()) * price["lambda_request"] * scale,
        "Lambda GB-seconds": seconds * gigabytes * price["lambda_gb_second"] * scale,
        "API Gateway requests": usage.lambda_invocations["api"]
        * price["api_gateway_request"]
        * scale,
        "DynamoDB write units": usage.write_units * price["dynamodb_write_request_unit"] * scale,
        "DynamoDB read units": usage.read_units * price["dynamodb_read_request_unit"] * scale,
        "SQS requests": usage.calls("sqs") * price["sqs_request"] * scale,
        "KMS requests": usage.calls("kms") * price["kms_request"] * scale,
    }
