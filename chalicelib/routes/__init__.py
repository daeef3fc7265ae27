"""The entry points, one Chalice Blueprint per area: HTTP routes, queue consumers, schedules
and the vault's own function. Each handler parses (the pipeline in `web.py` does it from the
declaration) and calls one service with its area's dependencies.

A Lambda function whose handler is in a blueprint imports only that module (and what it
needs), not `app.py`: the ingest consumer and the vault load no route they never serve.
"""
