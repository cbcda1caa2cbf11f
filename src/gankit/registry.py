"""Name -> builder tables, so a config names parts instead of wiring them (timm style)."""

from collections.abc import Callable
from typing import Any

from gankit.errors import BadInput, closest


class Registry:
    """A table of builders for one kind of part ("network", "dataset", ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._builders: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def add(builder: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._builders[name] = builder
            return builder

        return add

    def get(self, name: str) -> Callable[..., Any]:
        if name not in self._builders:
            raise BadInput(
                f'unknown {self.kind} "{name}".{closest(name, self._builders)} '
                f"Known: {', '.join(sorted(self._builders))} (see `gankit list`)."
            )
        return self._builders[name]

    def names(self) -> list[str]:
        return sorted(self._builders)

    def describe(self) -> dict[str, str]:
        """Each name with the first line of its builder's docstring."""
        return {
            name: (self._builders[name].__doc__ or "").strip().splitlines()[0]
            if self._builders[name].__doc__
            else ""
            for name in self.names()
        }

    def __contains__(self, name: str) -> bool:
        return name in self._builders
