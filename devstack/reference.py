"""`/docs` in `make run`: the OpenAPI document in Swagger UI, from the vendored package
`swagger-ui-bundle-v2` (PyPI, pinned in requirements-dev.txt; no CDN), served beside the API by
chalice's local server. Dev only: the Lambda API has no `/docs`."""

import mimetypes
from http import HTTPStatus
from pathlib import Path

from chalice.local import ChaliceRequestHandler

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shoppable API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="reference"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script></body></html>
"""
START = """window.ui = SwaggerUIBundle({url: "/v1/openapi.json", dom_id: "#reference",
  deepLinking: true, tryItOutEnabled: false});
"""


def _assets() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


class ReferenceHandler(ChaliceRequestHandler):
    """Chalice's request handler, with `/docs` answered from the vendored Swagger UI."""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/docs", "/docs/"):
            self._static(PAGE.encode(), "text/html; charset=utf-8")
        elif path == "/docs/start.js":
            self._static(START.encode(), "text/javascript")
        elif path.startswith("/docs/"):
            name = path.removeprefix("/docs/")
            file = _assets() / name
            if "/" in name or not file.is_file():
                self._static(b"not found", "text/plain", HTTPStatus.NOT_FOUND)
            else:
                kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
                self._static(file.read_bytes(), kind)
        else:
            super().do_GET()

    def _static(self, body: bytes, content_type: str, status: int = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
