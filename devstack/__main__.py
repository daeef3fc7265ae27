"""`python -m devstack`, what `make run` runs: the whole local stack, until Ctrl-C.

The start-up order matters. The emulator and the Stripe and platform stand-ins come first,
because their addresses go into the environment; the environment is set before any AWS or
Stripe client exists; then the tables, queues and keys, and the demo shop; then the app,
imported only now because it reads settings such as queue names at import, and its server;
then the Stripe webhook, the queue pollers and the schedules. Once `/v1/health` answers 200,
the demo shop connects the social accounts of the sample deliveries (events/ and the
platforms' published samples, tests/platform_samples) through the platforms' OAuth redirect
flow (the stand-in approves at once), and `dev.json` is written last, so its presence means
the stack is ready.

Ctrl-C (SIGINT) and SIGTERM only set an event; the main thread then stops everything it
started in reverse order and exits 0. A start that fails is unwound the same way.
"""

import contextlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .devfile import dev_dir, remove_dev_file, write_dev_file
from .loopback import LOOPBACK, Interrupted, port_is_free, request, wait_until

logger = logging.getLogger("devstack")

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_PORT = 8000
# The demo shop's accounts, connected at start (Facebook comes with Instagram: one grant).
DEMO_CONNECTIONS = ("instagram", "tiktok", "x", "pinterest")


def _number_from_env(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SystemExit(f"{name} must be a number, not {text!r}") from None
    if value < 0:
        raise SystemExit(f"{name} must not be negative")
    return value


def _configure_logging() -> None:
    # As `chalice local` does: what the app logs goes to stdout, as it would in Lambda.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def start(running: contextlib.ExitStack, stop: threading.Event, port: int) -> dict:
    """Start every part of the stack, registering how to stop it; returns dev.json's content."""
    # Imported only now, after the signal handlers are set: moto, chalice and the app take a
    # second or two to import, and a Ctrl-C meanwhile should stop the stack cleanly as well.
    from chalicelib import runtime as runtime_module
    from chalicelib.resources import provision

    from . import corpus
    from .api_server import ApiServer, load_app
    from .connect import connect
    from .emulator import AwsEmulator
    from .environment import configure, uses_real_stripe
    from .platform_standin import SAMPLE_MEDIA, PlatformStandin
    from .poller import queue_pollers
    from .scheduler import schedule_runners
    from .seed import seed_demo_creator, seed_demo_shop
    from .stream_poller import stream_pollers
    from .stripe_standin import StripeStandin

    retry_seconds = int(_number_from_env("SHOPPABLE_DEV_RETRY_SECONDS", 2))
    schedule_seconds = _number_from_env("SHOPPABLE_DEV_SCHEDULE_SECONDS", 30)
    directory = dev_dir()
    directory.mkdir(parents=True, exist_ok=True)
    remove_dev_file(directory)

    emulator = AwsEmulator()
    emulator.start()
    running.callback(emulator.stop)
    stripe = None
    if not uses_real_stripe():
        stripe = StripeStandin(directory / "localstripe.log")
        running.callback(stripe.stop)
        stripe.start(stop)
    env = configure(emulator.endpoint_url, stripe.api_base if stripe else None)
    platforms = PlatformStandin()
    platforms.start()
    running.callback(platforms.stop)
    for variable, url in platforms.base_urls().items():
        os.environ.setdefault(variable, url)  # a real platform URL set by the developer wins
    api_base = os.environ.setdefault("SHOPPABLE_PUBLIC_API_URL", f"http://{LOOPBACK}:{port}")
    platforms.oauth.register_redirect("tiktok", f"{api_base}/v1/connections/tiktok/callback")

    # Links in replies and creators' links open the demo page, which takes the same query.
    os.environ.setdefault("SHOPPABLE_STOREFRONT_URL", f"http://{LOOPBACK}:{port}/demo")
    rt = runtime_module.reset()
    queues = provision(rt)
    demo = seed_demo_shop(rt)
    creator = seed_demo_creator(rt, demo, stripe.api_base if stripe else None)
    platforms.seed_samples()
    corpus.seed_standin(platforms)

    config, app = load_app(PROJECT_DIR)
    api = ApiServer(config, app, port)
    api.start()
    running.callback(api.stop)
    stripe_webhook_url = f"{api.api_base}/v1/webhooks/stripe"
    if stripe is not None:
        stripe.register_webhook(stripe_webhook_url, env.webhook_secrets["stripe_webhook_secret"])

    pollers = queue_pollers(app, config, rt.boto_client("sqs"), env.region, retry_seconds)
    streams = stream_pollers(
        app, config, rt.dynamodb, rt.boto_client("dynamodbstreams"), rt.settings.main_table,
        env.region, retry_seconds,
    )  # fmt: skip
    schedules = schedule_runners(app, config, env.region, emulator.account_id, schedule_seconds)
    for worker in [*pollers, *streams, *schedules]:
        worker.start()
        running.callback(worker.stop)

    wait_until(lambda: request("GET", f"{api.api_base}/v1/health") == 200, "/v1/health", stop)

    def connect_demo(platform: str) -> None:  # through the redirect flow, as the merchant would
        status, body = connect(api.api_base, demo.api_key, platform)
        if status != 200:
            raise RuntimeError(f"connecting the demo shop's {platform} account: {status} {body}")

    for platform in DEMO_CONNECTIONS:  # the accounts of events/ (the stand-in's defaults)
        connect_demo(platform)
    corpus.connect_accounts(platforms, connect_demo)  # those of tests/platform_samples
    for platform, media_id in SAMPLE_MEDIA.items():  # the demo post, as if published there
        rt.post_store.link_media(platform, media_id, demo.post_id)
    info = {
        "api_base": api.api_base,
        "merchant_id": demo.merchant_id,
        "api_key": demo.api_key,
        "product_id": demo.product_id,
        "post_id": demo.post_id,
        "demo_url": f"{api.api_base}/demo/posts/{demo.post_id}",
        "creator_id": creator.creator_id,
        "creator_code": creator.code,
        "creator_link": creator.link_url,
        "aws_endpoint_url": env.aws_endpoint_url,
        "aws_region": env.region,
        "main_table": rt.settings.main_table,
        "stripe_api_base": env.stripe_api_base,
        "platform_standin_url": platforms.url,
        **env.webhook_secrets,
        "stripe_webhook_url": stripe_webhook_url,
        "queues": queues,
        "consumers": {
            **{poller.name: poller.queue_url for poller in pollers},
            **{poller.name: poller.reader.stream_arn for poller in streams},
        },
        "docs": f"{api.api_base}/docs",
        "schedules": {runner.name: runner.interval for runner in schedules},
        "pid": os.getpid(),
    }
    write_dev_file(directory, info)
    running.callback(remove_dev_file, directory)
    return info


def announce(info: dict) -> None:
    api, key = info["api_base"], info["api_key"]
    schedules = ", ".join(f"{name} every {every:g} s" for name, every in info["schedules"].items())
    print(
        f"\nShoppable is running at {api}\n"
        f"  demo page      {info['demo_url']} (buy with card 4242 4242 4242 4242)\n"
        f"  demo merchant  {info['merchant_id']}, API key {key}\n"
        f"  demo creator   {info['creator_id']}: buy through {info['creator_link']}"
        f" or with the code {info['creator_code']}\n"
        f"  demo post      {api}/v1/storefront/posts/{info['post_id']}\n"
        f"  reference      {info['docs']} (OpenAPI: {api}/v1/openapi.json)\n"
        f"  webhooks       python -m devstack.cli listen   (prints each signed event)\n"
        f"  emulators      AWS {info['aws_endpoint_url']}, Stripe {info['stripe_api_base']}\n"
        f"  consumers      {', '.join(info['consumers']) or 'none'}\n"
        f"  schedules      {schedules or 'none'}\n"
        f"  connected      Instagram, Facebook, TikTok Shop, X, Pinterest (through OAuth; "
        f"python -m devstack.cli connect <platform>)\n"
        f"  platforms      {info['platform_standin_url']}/_requests (what the app sent them)\n"
        f"  details        {dev_dir() / 'dev.json'} (with the dev webhook secrets)\n"
        f"  try            curl -H 'Authorization: Bearer {key}' {api}/v1/products\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )


def main() -> int:
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    _configure_logging()
    port = int(_number_from_env("PORT", DEFAULT_PORT))
    if not port_is_free(port):
        print(f"Port {port} is in use; free it or run with PORT=<another port>.", file=sys.stderr)
        return 1
    try:
        with contextlib.ExitStack() as running:
            try:
                info = start(running, stop, port)
                if not stop.is_set():
                    announce(info)
                while not stop.wait(0.5):
                    pass
            finally:
                print("Stopping the dev stack…", flush=True)
    except Interrupted:
        pass  # stopped while starting
    except Exception:
        logger.exception("The dev stack could not start.")
        return 1
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    code = main()
    # Everything the stack started is stopped by now; a handler still running on a worker
    # thread (a platform call timing out, a retried job) must not keep Ctrl-C from returning.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
