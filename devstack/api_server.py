"""The API, served as `chalice local` serves it, in a thread of this process.

`load_app` does what chalice's `local` command does before it serves (`CLIFactory`'s
`create_config_obj` and `load_chalice_app`): the stage's config from `.chalice/config.json`,
the stage's environment variables applied, `app` imported from the project directory, and the
same feature-flag and route validation `chalice deploy` does. It does so without importing
`chalice.cli`, whose interactive-prompt dependency (blessed, through inquirer) queries the
terminal at import and waits up to ten seconds where the terminal does not answer.
`ApiServer` is chalice's `LocalDevServer`, with its API Gateway emulation (authorizers, CORS,
binary types). Only the reloader is left out: the app shares this process with the emulator,
whose state a restart would lose. One answer is the deployed stack's rather than chalice's: an
unknown path gets the contract's 404 body (`errors.route_missing`, which the deployed API Gateway
answers through its MISSING_AUTHENTICATION_TOKEN gateway response, infra/build.py), not
chalice's 403 "Missing Authentication Token".
"""

import importlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from chalice import Chalice
from chalice.config import Config
from chalice.constants import DEFAULT_APIGATEWAY_STAGE_NAME, DEFAULT_ENDPOINT_TYPE
from chalice.deploy.validate import validate_feature_flags, validate_routes
from chalice.local import (
    CustomLocalChalice,
    LocalChalice,
    LocalDevServer,
    LocalGateway,
    RouteMatcher,
)

from chalicelib.errors import route_missing

from .loopback import LOOPBACK
from .reference import ReferenceHandler

DEFAULT_STAGE = "dev"
LISTEN_BACKLOG = 256


def load_app(project_dir: Path, stage: str = DEFAULT_STAGE) -> tuple[Config, Chalice]:
    """Import the app as the chalice CLI does; the environment must be set before this."""
    user_params: dict = {}
    config = Config(
        chalice_stage=stage,
        user_provided_params=user_params,
        config_from_disk=json.loads((project_dir / ".chalice" / "config.json").read_text()),
        default_params={
            "project_dir": str(project_dir),
            "api_gateway_stage": DEFAULT_APIGATEWAY_STAGE_NAME,
            "api_gateway_endpoint_type": DEFAULT_ENDPOINT_TYPE,
            "autogen_policy": True,
        },
    )
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"
    os.environ.update(config.environment_variables)
    if str(project_dir) not in sys.path:
        sys.path.insert(0, str(project_dir))
    module = importlib.import_module("app")
    app = module.app
    validate_feature_flags(app)
    validate_routes(app.routes)
    user_params["chalice_app"] = app
    return config, app


class DeployedGateway(LocalGateway):
    """Chalice's API Gateway emulation, with the deployed stack's answer to an unknown path."""

    def __init__(self, app_object: Chalice, config: Config):
        super().__init__(app_object, config)
        self._routes = RouteMatcher(list(app_object.routes))

    def handle_request(self, method: str, path: str, headers: dict, body: bytes | None) -> dict:
        try:
            self._routes.match_route(path)
        except ValueError:
            return {
                "statusCode": 404,
                "headers": {"Content-Type": "application/json"},
                "multiValueHeaders": {},
                "body": json.dumps(route_missing().to_body()),
            }
        return super().handle_request(method, path, headers, body)


class _RequestHandler(ReferenceHandler):
    """Chalice's request handler with `/docs` (see reference.py), over `DeployedGateway`, and
    an access log without query strings: an OAuth callback's carries a code and a state."""

    def __init__(self, request, client_address, server, app_object: Chalice, config: Config):
        # As chalice's __init__, with our gateway: the base class serves the request in it.
        self.local_gateway = DeployedGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        self.log_message('"%s %s" %s %s', self.command, path, str(code), str(size))


def _local_server(app: Chalice, config: Config, port: int) -> LocalDevServer:
    """What chalice's `create_local_server` builds, with `DeployedGateway`."""
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, LOOPBACK, port, handler_cls=_RequestHandler)


def _unless_client_left(report):
    """socketserver prints a traceback for every failed request; a browser that closed its
    connection before the answer was written (a page navigated away) is not a failure."""

    def handle_error(request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            report(request, client_address)

    return handle_error


class ApiServer:
    def __init__(self, config: Config, app: Chalice, port: int):
        self._local = _local_server(app, config, port)
        # A flash sale opens dozens of connections at once; the server's default backlog of 5
        # would reset most of them before a thread accepts them.
        self._local.server.socket.listen(LISTEN_BACKLOG)
        self._local.server.handle_error = _unless_client_left(self._local.server.handle_error)
        self._thread = threading.Thread(
            target=self._local.server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="chalice-local",
            daemon=True,
        )

    @property
    def api_base(self) -> str:
        return f"http://{LOOPBACK}:{self._local.server.server_address[1]}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._local.server.shutdown()
            self._thread.join(timeout=5)
        self._local.server.server_close()
