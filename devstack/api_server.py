"""The API, served as `chalice local` serves it, in a thread of this process.

`load_app` does what chalice's `local` command does before it serves (`CLIFactory`'s
`create_config_obj` and `load_chalice_app`): the stage's config from `.chalice/config.json`,
the stage's environment variables applied, `app` imported from the project directory, and the
same feature-flag and route validation `chalice deploy` does. It does so without importing
`chalice.cli`, whose interactive-prompt dependency (blessed, through inquirer) queries the
terminal at import and waits up to ten seconds where the terminal does not answer.
`ApiServer` is chalice's `LocalDevServer`, with its API Gateway emulation (authorizers, CORS,
binary types). Only the reloader is left out: the app shares this process with the emulator,
whose state a restart would lose.
"""

import importlib
import json
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

from chalice import Chalice
from chalice.config import Config
from chalice.constants import DEFAULT_APIGATEWAY_STAGE_NAME, DEFAULT_ENDPOINT_TYPE
from chalice.deploy.validate import validate_feature_flags, validate_routes
from chalice.local import LocalDevServer, create_local_server

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
    _load_lazy_modules(module)
    app = module.app
    validate_feature_flags(app)
    validate_routes(app.routes)
    user_params["chalice_app"] = app
    return config, app


def _load_lazy_modules(module) -> None:
    """Load the services `app.py` names lazily (chalicelib/lazy.py) before serving threads.

    Python 3.11's LazyLoader is not thread-safe: the first thread to touch a lazy module turns
    it into a plain module before executing it, and a second thread that touches it meanwhile
    finds it empty (a flash sale's first checkouts got 500s, "module
    'chalicelib.services.checkout' has no attribute 'checkout'"). Lambda runs one request at a
    time per process, so only this threaded server needs it.
    """
    for value in list(vars(module).values()):
        if isinstance(value, ModuleType) and value.__name__.startswith("chalicelib."):
            getattr(value, "__dict__", None)


class ApiServer:
    def __init__(self, config: Config, app: Chalice, port: int):
        create_local_server(app, config, LOOPBACK, port).server.server_close()  # app's class
        self._local = LocalDevServer(app, config, LOOPBACK, port, handler_cls=ReferenceHandler)
        # A flash sale opens dozens of connections at once; the server's default backlog of 5
        # would reset most of them before a thread accepts them.
        self._local.server.socket.listen(LISTEN_BACKLOG)
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
