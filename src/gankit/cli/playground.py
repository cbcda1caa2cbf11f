"""The `gankit playground` command."""

from __future__ import annotations

import argparse

from gankit.cli.base import SEED, command, whole


@command(
    "playground",
    "serve a live 2D GAN playground in the browser (GAN Lab style) on the real engine",
    "gankit playground --port 8008",
)
def _playground(p: argparse.ArgumentParser):
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (0.0.0.0 opens it to the network)"
    )
    p.add_argument(
        "--port",
        type=whole(0, 65535, "a port"),
        default=8008,
        help="port to listen on (0: any free one)",
    )
    p.add_argument("--seed", type=SEED, default=0, help="seed of the networks and shown latents")

    def run(a: argparse.Namespace) -> int:
        from gankit.playground.server import serve

        serve(a.host, a.port, a.seed)
        return 0

    return run
