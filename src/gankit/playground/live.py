"""The playground's live part: the one session all clients share (as in GAN Lab), a thread that
trains it while running, and its state as JSON, made once a training step however many ask."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from gankit.errors import BadInput, closest
from gankit.playground.session import Session, Settings

STEP_PAUSE_S = 0.002  # between training steps, so requests get the lock (and the CPU) too
ACTIONS = ("start", "pause", "step", "reset")


class Playground:
    """One shared training session, trained by a thread while running; a lock guards it."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.lock = threading.Lock()  # guards session (and its replacement)
        self.session = Session(Settings(), seed)
        self.generation = 0  # sessions built so far: part of the cached state's key
        self.running, self.closed = threading.Event(), threading.Event()
        self._state: tuple[tuple[int, int, bool], bytes] | None = None
        threading.Thread(target=self._train, name="playground-train", daemon=True).start()

    def _train(self) -> None:
        while not self.closed.is_set():
            if not self.running.wait(timeout=0.1):
                continue
            with self.lock:
                if not self.running.is_set():  # paused while this thread waited for the lock
                    continue
                self.session.step()
                if self.session.diverged:  # NaN losses: stop, the page says so
                    self.running.clear()
            time.sleep(STEP_PAUSE_S)

    def state_json(self) -> bytes:
        with self.lock:
            key = (self.generation, self.session.steps, self.running.is_set())
            if self._state is None or self._state[0] != key:
                state = self.session.state() | {"running": key[2]}
                self._state = (key, json.dumps(state).encode())
            return self._state[1]

    def control(self, action: Any) -> None:
        if action not in ACTIONS:
            hint = closest(action, ACTIONS) if isinstance(action, str) else ""
            raise BadInput(f'unknown action "{action}".{hint} Use one of: {", ".join(ACTIONS)}.')
        if action == "reset":
            self.configure({})
        elif action == "start":
            self.running.set()
        else:  # pause, or one step by hand
            self.running.clear()
            if action == "step":
                with self.lock:
                    self.session.step()

    def configure(self, changes: dict[str, Any]) -> None:
        """A fresh session with the settings changed (checked first: bad input changes nothing);
        training goes on if it was running."""
        with self.lock:
            settings = self.session.settings.updated(changes)
            self.session = Session(settings, self.seed)
            self.generation += 1

    def close(self) -> None:
        self.closed.set()
