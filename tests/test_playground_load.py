"""A bounded load test of the playground: 20 clients on loopback, polling the state like the page
does and now and then posting controls, while the server trains and 64 slowloris connections from
another address trickle one header byte every 5 s (reconnecting whenever cut). Zero errors for
the 20, and the server process's memory stays put, for 60 s (so CI runs it every time)."""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

CLIENTS = 20
DURATION_S = 60  # the bound
POLL_S = 0.1  # the page polls every 100 ms
POST_EVERY = 20  # one request in this many is a POST
SLOWLORIS = 64  # connections from 127.0.0.2, one header byte every SLOW_BYTE_S
SLOW_BYTE_S = 5.0
RSS_GROWTH_MB = 64  # generous: the state is a fixed size and is cached, so it should not grow


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def start_server() -> tuple[subprocess.Popen, str]:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gankit", "playground", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = proc.stdout.readline()  # "gankit playground: http://127.0.0.1:PORT/ (Ctrl-C ...)"
    assert "http://127.0.0.1:" in line, line
    return proc, line.split()[2]


def client(url: str, until: float, index: int, latencies: list, errors: list, steps: list) -> None:
    """Poll the state; every POST_EVERY-th request, client 0 changes G's learning rate (which
    rebuilds the session) and the others press start."""
    rng = random.Random(index)
    origin = {"Origin": url.rstrip("/"), "Content-Type": "application/json"}
    n = 0
    while time.monotonic() < until:
        n += 1
        if n % POST_EVERY:
            request = urllib.request.Request(url + "api/state")
        else:
            path, body = (
                ("settings", {"lr_g": rng.choice([1e-3, 2e-3])})
                if index == 0
                else ("control", {"action": "start"})
            )
            request = urllib.request.Request(
                url + f"api/{path}", json.dumps(body).encode(), origin, method="POST"
            )
        began = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                state = json.loads(response.read())
            assert response.status == 200 and state["running"]
            latencies.append(time.perf_counter() - began)
            steps.append(state["step"])
        except Exception as e:  # every failure counts, whatever its kind
            errors.append(repr(e))
        time.sleep(POLL_S)


def slowloris(url: str, until: float, cut: list) -> None:
    """Hold a request open by sending one header byte every SLOW_BYTE_S; start again 1 s after
    being cut (refused over the per-address cap, or closed at the request deadline)."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    while time.monotonic() < until:
        try:
            sock = socket.create_connection(("127.0.0.1", port), 5, ("127.0.0.2", 0))
        except OSError:
            time.sleep(0.5)
            continue
        with sock:
            try:
                sock.sendall(b"GET /api/state HTTP/1.1\r\n")
                while time.monotonic() < until:
                    sock.settimeout(SLOW_BYTE_S)
                    try:
                        sock.recv(64)  # an answer (503, 408) or the close: either way, cut
                    except TimeoutError:
                        sock.sendall(b"X")
                        continue
                    cut.append(1)
                    break
            except OSError:
                cut.append(1)
        time.sleep(1.0)  # then try again, as an attacker would (not in a tight loop)


def test_20_clients_for_60_s_while_training():
    duration_s = DURATION_S
    proc, url = start_server()
    try:
        start = urllib.request.Request(
            url + "api/control", b'{"action": "start"}', {"Origin": url.rstrip("/")}, "POST"
        )
        urllib.request.urlopen(start, timeout=30).read()
        time.sleep(2)  # warm: the first states and steps allocate what they keep
        rss_before = rss_mb(proc.pid)
        latencies: list[float] = []
        errors: list[str] = []
        steps: list[int] = []  # the training step each answer showed
        until = time.monotonic() + duration_s
        cut: list[int] = []  # slow connections refused or cut by the server
        threads = [
            threading.Thread(target=slowloris, args=(url, until, cut)) for _ in range(SLOWLORIS)
        ]
        threads += [
            threading.Thread(target=client, args=(url, until, i, latencies, errors, steps))
            for i in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rss_after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    ms = sorted(1000 * s for s in latencies)
    numbers = {
        "clients": CLIENTS,
        "slowloris": SLOWLORIS,
        "slow_connections_cut": len(cut),
        "duration_s": duration_s,
        "requests": len(ms) + len(errors),
        "errors": len(errors),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(ms[int(0.99 * (len(ms) - 1))], 1),
        "rss_before_mb": round(rss_before, 1),
        "rss_growth_mb": round(rss_after - rss_before, 1),
        "max_step_seen": max(steps),
    }
    print(json.dumps(numbers))
    assert errors == [], errors[:5]
    assert cut  # the slow connections were refused or cut, not left to hold the slots
    assert len(ms) > CLIENTS * duration_s  # each client got well over one answer a second
    assert max(steps) >= 20  # training went on (every answer also said "running")
    assert numbers["rss_growth_mb"] < RSS_GROWTH_MB
