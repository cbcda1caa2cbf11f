"""Labs: the theory of GANs as small experiments (`gankit lab NAME`), each writing PNG plots and
a JSON of its numbers into a folder and returning a short summary.

Every lab is a function `lab(out: Path, **settings) -> dict` registered in LABS; its keyword-only
arguments are its settings (budgets included), which `--set key=value` overrides. The labs are
imported on first use of `LABS` or `run`, so that `gankit --help` stays quick.
"""

from typing import Any

__all__ = ["LABS", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        # Importing the modules registers their labs.
        from gankit.lab import (  # noqa: F401  # noqa: F401
            doctor_check,
            js_wasserstein,
            mode_collapse,
            optimal_d,
            registry,
            saturation,
            vanishing,
        )

        return getattr(registry, name)
    raise AttributeError(name)
