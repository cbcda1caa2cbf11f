"""`gankit playground`'s web server: the page, and a JSON API over one shared training session.

Stdlib only (ThreadingHTTPServer). It binds 127.0.0.1 unless told otherwise; every request must
name this server in its Host header (against DNS rebinding) and, when it carries an Origin, come
from this server's own page (against other sites' scripts). Memory stays bounded: one session
(shared by all clients, as in GAN Lab), a cap on connections served at once, and on request bodies.

API: GET /api/state, GET /api/options, POST /api/control {"action": "start" | "pause" | "step" |
"reset"}, POST /api/settings {"loss": "hinge", ...}; both POSTs answer with the new state.
"""

from __future__ import annotations

import collections
import contextlib
import errno
import io
import ipaddress
import json
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from gankit.errors import BadInput
from gankit.playground.live import Playground
from gankit.playground.session import options

MAX_BODY = 4096  # bytes of a POST body (settings take a few dozen)
MAX_CONNECTIONS = 64  # served at once; a connection over the cap is answered 503
MAX_PER_CLIENT = 32  # of those, from one address: one slow or greedy client cannot take them all
REQUEST_DEADLINE_S = 10.0  # for a whole request (line, headers, body), however slowly it trickles
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


class _Deadline(io.RawIOBase):
    """A socket reader that gives up at the handler's deadline: a socket timeout alone restarts
    with every byte, so a client sending one header byte every 5 s (slowloris) would hold its
    connection for ever."""

    def __init__(self, sock: socket.socket, handler: Handler) -> None:
        self.sock, self.handler = sock, handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.handler.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request not received in time")
        self.sock.settimeout(left)
        return self.sock.recv_into(buffer)


class Handler(BaseHTTPRequestHandler):
    server: PlaygroundServer
    timeout = REQUEST_DEADLINE_S  # of any one read; the deadline bounds the whole request
    server_version = "gankit-playground"
    deadline = 0.0

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the plain reader is replaced, not wrapped
        self.rfile = io.BufferedReader(_Deadline(self.connection, self))

    def handle_one_request(self) -> None:
        # An idle keep-alive connection waits for its next request under the same deadline.
        self.deadline = time.monotonic() + self.server.request_deadline_s
        super().handle_one_request()

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
        if length is None:
            raise Refused(411, "give the body's size in a Content-Length header")
        if not re.fullmatch(r"[0-9]{1,12}", length.strip()):  # str.isdigit takes "²" and "٣"
            raise BadInput(f"Content-Length {length!r} is not a number of bytes")
        if int(length) > MAX_BODY:
            raise Refused(413, f"body of {length} bytes refused: at most {MAX_BODY}")
        try:
            body = json.loads(self.rfile.read(int(length)))
        except RecursionError:  # a few kB of [[[[... nests deeper than the parser recurses
            raise BadInput("the body nests too deeply: send a flat JSON object") from None
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
        self.per_client: collections.Counter[str] = collections.Counter()
        self.per_client_lock = threading.Lock()
        self.request_deadline_s = REQUEST_DEADLINE_S
        self.playground = Playground(seed)  # first: a failed bind calls server_close, closing it
        super().__init__((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        client = client_address[0]
        with self.per_client_lock:
            if self.per_client[client] >= MAX_PER_CLIENT:
                admitted = False
            else:
                admitted = self.slots.acquire(blocking=False)  # no thread beyond the cap
                self.per_client[client] += admitted
        if not admitted:
            with contextlib.suppress(OSError):  # the refused client may already have gone
                request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: socket.socket, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.per_client_lock:
                self.per_client[client_address[0]] -= 1
                if not self.per_client[client_address[0]]:
                    del self.per_client[client_address[0]]
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
