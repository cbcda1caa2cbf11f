"""The playground: its session on the real engine, its API, and its guards."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest
import torch

from gankit.cli import parser
from gankit.errors import BadInput
from gankit.penalties import gradient_penalty
from gankit.playground.live import Playground
from gankit.playground.server import PlaygroundServer, own_host, serve
from gankit.playground.session import GRID, POINTS, Session, Settings


@pytest.fixture
def live():
    """A playground server on a free loopback port, serving from a thread."""
    srv = PlaygroundServer("127.0.0.1", 0, seed=0)
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def call(srv, method, path, body=None, headers=None):
    """(status, decoded JSON or text) of one request; `headers` may replace Host."""
    port = srv.server_address[1]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    conn.request(method, path, body=data, headers=headers or {})
    response = conn.getresponse()
    text = response.read().decode()
    conn.close()
    is_json = response.getheader("Content-Type") == "application/json"
    return response.status, json.loads(text) if is_json else text


def wait_for(condition, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- the session --------------------------------------------------------------------------


def test_steps_move_the_generated_points_and_record_losses():
    session = Session(Settings(), seed=0)
    before = session.state()["fake"]
    for _ in range(5):
        session.step()
    state = session.state()
    assert state["step"] == 5 and [h[0] for h in state["history"]] == [1, 2, 3, 4, 5]
    moved = torch.tensor(state["fake"]) - torch.tensor(before)
    assert moved.norm(dim=1).mean() > 1e-3
    assert all(isinstance(h[1], float) and isinstance(h[2], float) for h in state["history"])


def test_state_has_fixed_shapes_and_is_strict_json():
    session = Session(Settings(dataset="grid"), seed=0)
    session.step()
    state = json.loads(json.dumps(session.state(), allow_nan=False))
    assert state["settings"]["dataset"] == "grid" and state["grid"] == GRID
    for key in ("real", "fake", "arrows"):
        assert torch.tensor(state[key]).shape == (POINTS, 2), key
    surface = torch.tensor(state["surface"])
    assert surface.shape == (GRID * GRID,) and 0 <= surface.min() <= surface.max() <= 1
    low, high = state["bounds"]
    assert low == -high and torch.tensor(state["real"]).abs().max() < high  # the grid's +-4 fit


def test_arrows_point_where_g_loss_falls():
    session = Session(Settings(), seed=0)
    for _ in range(3):
        session.step()
    fake = session.recipe.generate(session.z)
    arrows = session.g_directions(fake)
    d, game = session.recipe.modules["d"], session.recipe.game
    with torch.no_grad():
        here, moved = game.g_loss(d(fake)), game.g_loss(d(fake + 1e-3 * arrows))
    assert moved < here


def test_changing_the_loss_rebuilds_the_running_session():
    playground = Playground(seed=0)
    try:
        playground.control("start")
        wait_for(lambda: playground.session.steps >= 3)
        playground.configure({"loss": "wgan-gp", "n_critic": 2})
        session = playground.session
        assert session.settings.loss == "wgan-gp" and session.recipe.cfg.train.n_critic == 2
        assert session.recipe.penalty.term is gradient_penalty  # wgan-gp's own penalty ("auto")
        assert not session.recipe.game.probabilistic
        wait_for(lambda: playground.session.steps >= 3)  # it trains on, under the new loss
        assert playground.session is session and playground.running.is_set()
    finally:
        playground.close()


def test_a_diverged_session_stops_and_its_state_stays_valid_json():
    playground = Playground(seed=0)
    try:
        with playground.lock:
            for p in playground.session.recipe.modules["g"].parameters():
                p.data.fill_(float("nan"))
        playground.control("start")
        wait_for(lambda: not playground.running.is_set())  # the trainer stopped by itself
        state = json.loads(playground.state_json(), parse_constant=pytest.fail)  # no NaN in it
        assert state["diverged"] and state["history"][-1][2] is None  # G's loss was NaN
    finally:
        playground.close()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"loss": "wgan-pg"}, 'unknown loss "wgan-pg". Did you mean "wgan-gp"?'),
        ({"dataset": "rings"}, 'unknown dataset "rings". Did you mean "ring"?'),
        ({"penalty": "r2"}, 'unknown penalty "r2". Did you mean "r1r2"?'),
        ({"datset": "ring"}, 'unknown setting "datset". Did you mean "dataset"?'),
        ({"lr_g": 5}, "lr_g = 5 is out of range"),
        ({"lr_d": 0}, "lr_d = 0 is out of range"),
        ({"lr_d": float("nan")}, "lr_d = nan is out of range"),
        ({"n_critic": 0}, "n_critic = 0 is out of range"),
        ({"n_critic": 2.5}, "n_critic = 2.5 is out of range"),
        ({"lr_g": True}, "lr_g = True is out of range"),
        ({"loss": 3}, "loss = 3: give a name"),
        ({"dataset": "mnist"}, "The playground's 2D toys: ring, grid, swiss-roll"),
    ],
)
def test_bad_settings_name_the_problem(changes, message):
    with pytest.raises(BadInput) as error:
        Settings().updated(changes)
    assert message in str(error.value)


# -- the server -----------------------------------------------------------------------------


def test_serves_the_page_and_drives_training(live):
    status, page = call(live, "GET", "/")
    assert status == 200 and '<canvas id="field"' in page and "/page.js" in page
    assert call(live, "GET", "/page.js")[0] == 200 and call(live, "GET", "/page.css")[0] == 200
    status, options = call(live, "GET", "/api/options")
    assert "hinge" in options["losses"] and options["defaults"]["dataset"] == "ring"
    status, state = call(live, "POST", "/api/control", {"action": "start"})
    assert status == 200 and state["running"]
    wait_for(lambda: call(live, "GET", "/api/state")[1]["step"] >= 3)
    status, state = call(live, "POST", "/api/control", {"action": "pause"})
    paused_at = state["step"]
    status, state = call(live, "POST", "/api/control", {"action": "step"})
    assert status == 200 and not state["running"] and state["step"] == paused_at + 1
    status, state = call(live, "POST", "/api/settings", {"loss": "hinge", "lr_g": 5e-4})
    assert status == 200 and state["settings"]["loss"] == "hinge" and state["step"] == 0
    assert live.playground.session.settings.lr_g == 5e-4
    assert call(live, "GET", "/nothing")[0] == 404


def test_bad_settings_and_bodies_get_400_and_change_nothing(live):
    status, answer = call(live, "POST", "/api/settings", {"loss": "wgan-pg"})
    assert status == 400 and 'Did you mean "wgan-gp"?' in answer["error"]
    assert call(live, "POST", "/api/settings", {"lr_d": 10})[0] == 400
    assert call(live, "POST", "/api/control", {"action": "go"})[0] == 400
    assert call(live, "POST", "/api/settings", b"{not json")[0] == 400
    assert call(live, "POST", "/api/settings", b"[1, 2]")[0] == 400
    assert live.playground.session.settings == Settings()


def test_other_origins_are_refused(live):
    port = live.server_address[1]
    status, answer = call(
        live, "POST", "/api/control", {"action": "start"}, {"Origin": "http://evil.example"}
    )
    assert status == 403 and "evil.example" in answer["error"]
    assert not live.playground.running.is_set()  # the refused request did nothing
    assert call(live, "GET", "/api/state", headers={"Origin": "null"})[0] == 403
    own = {"Origin": f"http://127.0.0.1:{port}"}
    assert call(live, "POST", "/api/control", {"action": "start"}, own)[0] == 200


def test_other_hosts_are_refused(live):
    port = live.server_address[1]
    status, answer = call(live, "GET", "/api/state", headers={"Host": f"evil.example:{port}"})
    assert status == 403 and "does not name this server" in answer["error"]
    assert call(live, "GET", "/", headers={"Host": f"localhost:{port}"})[0] == 200
    assert own_host("127.0.0.1:8008", "127.0.0.1") and own_host("[::1]:8008", "127.0.0.1")
    assert own_host("LOCALHOST", "127.0.0.1") and own_host("box.lan:80", "box.lan")
    for foreign in ("127.0.0.1.evil.example", "evil.example@127.0.0.1", "[::1", "", "a b"):
        assert not own_host(foreign, "127.0.0.1"), foreign


def test_request_bodies_are_capped(live):
    # The size is refused from the header, before a byte of the body is read.
    status, answer = call(live, "POST", "/api/settings", headers={"Content-Length": "1000000"})
    assert status == 413 and "at most 4096" in answer["error"]
    assert call(live, "POST", "/api/settings", headers={"Content-Length": "abc"})[0] == 400
    for size in (100_000, 50_000_000):  # real uploads: refused unread, or cut off mid-way
        try:
            status = call(live, "POST", "/api/settings", b"x" * size)[0]
        except ConnectionError:
            status = "cut off"
        assert status in (413, "cut off")
    assert call(live, "GET", "/api/state")[0] == 200  # and it serves on


def test_connections_over_the_cap_get_503(live):
    live.slots = threading.BoundedSemaphore(1)
    idle = socket.create_connection(live.server_address[:2])  # holds the only slot
    try:
        wait_for(lambda: live.slots._value == 0)
        assert call(live, "GET", "/api/state")[0] == 503
    finally:
        idle.close()
    wait_for(lambda: live.slots._value == 1)
    assert call(live, "GET", "/api/state")[0] == 200


def test_binds_loopback_by_default_and_warns_otherwise(monkeypatch, capsys):
    assert parser().parse_args(["playground"]).host == "127.0.0.1"
    srv = PlaygroundServer()
    assert srv.server_address[0] == "127.0.0.1"
    srv.server_close()
    monkeypatch.setattr(PlaygroundServer, "serve_forever", lambda self: None)
    serve("127.0.0.1", 0)
    assert "WARNING" not in capsys.readouterr().err
    serve("0.0.0.0", 0)
    assert "WARNING: binding 0.0.0.0 exposes the playground" in capsys.readouterr().err


def test_a_port_in_use_is_bad_input(live):
    with pytest.raises(BadInput, match="port .* is in use"):
        serve("127.0.0.1", live.server_address[1])
