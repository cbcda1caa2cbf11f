"""`gankit playground`'s web server: the page, and a JSON API over one shared training session.

Stdlib only (ThreadingHTTPServer). It binds 127.0.0.1 unless told otherwise; every request must
name this server in its Host header (against DNS rebinding) and, when it carries an Origin, come
from this server's own page (against other sites' scripts). Memory stays bounded: one session
(shared by all clients, as in GAN Lab), a cap on connections served at once, and on request bodies.

API: GET /api/state, GET /api/options, POST /api/control {"action": "start" | "pause" | "step" |
"reset"}, POST /api/settings {"loss": "hinge", ...}; both POSTs answer with the new state.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from gankit.errors import BadInput
from gankit.playground.live import Playground
from gankit.playground.session import options

MAX_BODY = 4096  # bytes of a POST body (settings take a few dozen)
MAX_CONNECTIONS = 64  # served at once; a connection over the cap is answered 503
JSON = "application/json"
HOST = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?")  # name[:port]
STATIC = {
    "/": ("page.html", "text/html; charset=utf-8"),
    "/page.js": ("page.js", "text/javascript; charset=utf-8"),
    "/page.css": ("page.css", "text/css; charset=utf-8"),
    "/favicon.ico": ("icon.svg", "image/svg+xml"),
}
HEADERS = {  # the page runs only its own files and cannot be framed by another site
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    timeout = 10  # seconds a slow client may hold a connection
    server_version = "gankit-playground"

    def do_GET(self) -> None:
        self._respond(self._get)

    def do_POST(self) -> None:
        self._respond(self._post)

    def _respond(self, route) -> None:
        try:
            self._check_caller()
            status, body, kind = 200, *route(urlsplit(self.path).path)
        except Refused as e:
            status, body, kind = e.status, _json({"error": str(e)}), JSON
        except BadInput as e:
            status, body, kind = 400, _json({"error": str(e)}), JSON
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": len(body), **HEADERS}.items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def _get(self, path: str) -> tuple[bytes, str]:
        if path in STATIC:
            name, kind = STATIC[path]
            return PAGE_FILES[name], kind
        if path == "/api/state":
            return self.server.playground.state_json(), JSON
        if path == "/api/options":
            return _json(options()), JSON
        raise Refused(404, f"no page {path}")

    def _post(self, path: str) -> tuple[bytes, str]:
        playground = self.server.playground
        if path not in ("/api/control", "/api/settings"):
            raise Refused(404, f"no API {path}")
        body = self._json_body()
        if path == "/api/control":
            playground.control(body.get("action"))
        else:
            playground.configure(body)
        return playground.state_json(), JSON

    def _check_caller(self) -> None:
        host = self.headers.get("Host", "")
        if not own_host(host, self.server.server_address[0]):
            raise Refused(403, f"Host {host!r} does not name this server: open {self.server.url}")
        origin = self.headers.get("Origin")
        if origin is not None and origin.lower() != f"http://{host}".lower():
            raise Refused(403, f"requests from {origin!r} are refused: only this server's page")

    def _json_body(self) -> dict[str, Any]:
        """The body as a JSON object; its size is checked before any of it is read."""
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise Refused(411, "give the body's size in a Content-Length header")
        if int(length) > MAX_BODY:
            raise Refused(413, f"body of {length} bytes refused: at most {MAX_BODY}")
        try:
            body = json.loads(self.rfile.read(int(length)))
        except ValueError:
            raise BadInput('the body is not JSON: send an object, e.g. {"loss": "hinge"}') from None
        if not isinstance(body, dict):
            raise BadInput('the body must be a JSON object, e.g. {"action": "start"}')
        return body

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no line per request: a polling page makes ten a second


class PlaygroundServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # 20 clients polling at once must not overflow the listen backlog

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int = 0) -> None:
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.playground = Playground(seed)  # first: a failed bind calls server_close, closing it
        super().__init__((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):  # no thread (nor memory) beyond the cap
            request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: socket.socket, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that left is no fault
            super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self.playground.close()


def own_host(host_header: str, bound: str) -> bool:
    """Whether a Host header names this server: localhost, an IP address (DNS rebinding needs a
    name of the attacker's), or the name it was bound to."""
    match = HOST.fullmatch(host_header)
    if not match:
        return False
    name = match["name"].strip("[]").lower()
    if name in ("localhost", bound.lower()):
        return True
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(host: str = "127.0.0.1", port: int = 8008, seed: int = 0) -> None:
    """Serve the playground until Ctrl-C."""
    if not is_loopback(host):
        print(
            f"gankit: WARNING: binding {host} exposes the playground beyond this machine: anyone "
            "who can reach it can drive training here. Use --host 127.0.0.1 unless you mean it.",
            file=sys.stderr,
        )
    try:
        server = PlaygroundServer(host, port, seed)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise BadInput(
                f"port {port} is in use: pick another with --port (0: any free one)."
            ) from None
        raise
    print(f"gankit playground: {server.url} (Ctrl-C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


PAGE_FILES = {
    name: resources.files(__package__).joinpath(name).read_bytes() for name, _ in STATIC.values()
}
