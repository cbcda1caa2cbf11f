"""Hostile playground clients: slowloris, deeply nested JSON, odd Content-Length values.

A slow client is cut at the per-request deadline however it trickles its bytes, one address holds
at most MAX_PER_CLIENT connections, and every malformed body is a 400, never a server traceback.
"""

from __future__ import annotations

import socket
import time

import pytest
from test_playground import call, live  # noqa: F401  (the fixture)

from gankit.playground import server as server_module


def slow_connection(port: int, source: str) -> socket.socket:
    """A connection from `source` (another loopback address) that has begun a request."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    sock.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return sock


def answered_503(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        return sock.recv(64).startswith(b"HTTP/1.0 503")
    except TimeoutError:
        return False  # still held open by the server: admitted


def test_slowloris_cannot_starve_other_clients(live, capfd):  # noqa: F811
    live.request_deadline_s = 2.0
    port = live.server_address[1]
    attackers = [slow_connection(port, "127.0.0.2") for _ in range(64)]
    try:
        refused = sum(answered_503(s) for s in attackers)
        # One address gets at most its share; the rest of the cap stays free for others.
        assert refused == 64 - server_module.MAX_PER_CLIENT
        began = time.monotonic()
        while time.monotonic() - began < 3.0:  # past the deadline, attackers still trickling
            for s in attackers:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            status, state = call(live, "GET", "/api/state")
            assert status == 200 and "step" in state
            time.sleep(0.2)
        wait_for_slots(live)  # every admitted slow request was cut at its deadline
    finally:
        for s in attackers:
            s.close()
    assert "Traceback" not in capfd.readouterr().err


def wait_for_slots(srv, timeout_s: float = 5.0) -> None:
    """All connection slots come back once the deadline has cut the slow requests."""
    end = time.monotonic() + timeout_s
    while srv.per_client and time.monotonic() < end:
        time.sleep(0.05)
    assert not srv.per_client, dict(srv.per_client)


def test_a_slow_client_is_cut_at_the_deadline_not_per_byte(live):  # noqa: F811
    live.request_deadline_s = 1.5
    sock = slow_connection(live.server_address[1], "127.0.0.1")
    began, closed = time.monotonic(), False
    sock.settimeout(0.3)
    while time.monotonic() - began < 6 and not closed:
        try:
            sock.send(b"X")  # one byte every 0.3 s: a per-read timeout would never fire
            closed = sock.recv(64) == b""
        except TimeoutError:
            continue
        except OSError:
            closed = True
    sock.close()
    assert closed and time.monotonic() - began < 3.5


@pytest.mark.parametrize(
    "body, length",
    [
        (b"[" * 2000 + b"]" * 2000, None),  # under 4 kB, deeper than json's recursion
        (b'{"a": ' + b"[" * 1900 + b"]" * 1900 + b"}", None),
        (b'{"action": "start"}', "\u00b2"),  # str.isdigit() is true for a superscript two
        (b'{"action": "start"}', "\u0663"),  # and for an Arabic-Indic three
        (b'{"action": "start"}', "-1"),
        (b'{"action": "start"}', "1e3"),
    ],
)
def test_malformed_bodies_get_400_and_the_server_serves_on(live, capfd, body, length):  # noqa: F811
    port = live.server_address[1]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (
        f"POST /api/control HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\n"
        f"Content-Length: {length if length is not None else len(body)}\r\n\r\n"
    )
    # Headers travel as Latin-1 (how http.server decodes them), UTF-8 where Latin-1 has no glyph.
    try:
        raw = head.encode("latin-1")
    except UnicodeEncodeError:
        raw = head.encode()
    sock.sendall(raw + body)
    answer = sock.recv(4096)
    sock.close()
    assert answer.startswith(b"HTTP/1.0 400"), answer[:200]
    assert call(live, "GET", "/api/state")[0] == 200
    assert "Traceback" not in capfd.readouterr().err
