"""The local dev stack that `make run` starts: `python -m devstack`.

One Python process holds the whole stack, on loopback only, so that Ctrl-C stops everything:

- `emulator`: moto's server in a thread, serving one request at a time (DESIGN §7), with the
  tables, queues and keys created by `chalicelib.resources.provision`;
- `stripe_standin`: localstripe, the one child process, whose signed webhooks reach our Stripe
  webhook route;
- `seed`: a demo merchant with a product and a post;
- `api_server`: the Chalice app served exactly as `chalice local` serves it;
- `poller` and `scheduler`: the app's SQS and schedule handlers, invoked as Lambda invokes
  them (`invoke`), so that queue consumers and scheduled jobs run locally too;
- `devfile`: `.shoppable/dev.json`, where tools and the e2e tests find all of it.

`__main__` wires these together. Nothing here is imported by the app itself.
"""
