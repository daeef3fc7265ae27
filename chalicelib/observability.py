"""Structured JSON logs, one line per event, with the request or message id and the merchant id.

Personal data never goes into a log: log ids and tokens, never bodies or customer fields.
"""

from aws_lambda_powertools import Logger

logger = Logger(service="shoppable")
