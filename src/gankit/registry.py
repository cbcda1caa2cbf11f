"""Name -> builder tables, so a config names parts instead of wiring them (timm style)."""

from collections.abc import Callable
from typing import Any

from gankit.errors import BadInput, closest


class Registry:
    """A table of builders for one kind of part ("network", "dataset", ...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._builders: dict[str, Callable[..., Any]] = {}
        self._traits: dict[str, frozenset[str]] = {}

    def register(
        self, name: str, traits: tuple[str, ...] = ()
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Add a builder under `name`, declaring what its parts can do (`traits`, e.g. a
        network's "translates"), so that users check the declaration, not the built object."""

        def add(builder: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._builders[name] = builder
            self._traits[name] = frozenset(traits)
            return builder

        return add

    def has(self, name: str, trait: str) -> bool:
        """Whether the part registered as `name` declared `trait` (BadInput for unknown names)."""
        self.get(name)
        return trait in self._traits[name]

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
