"""YAML for config files that may come from anyone: PyYAML's safe loader with three refusals.

`yaml.safe_load` builds no objects, but it still expands aliases without bound (a "billion
laughs" file of a few hundred bytes becomes gigabytes once copied), recurses once per level of
nesting (50,000 levels end in a RecursionError), and lets a repeated key silently replace the
first one (a second `train:` section wipes the first). This loader refuses all three with a
message that names the line and the fix.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_ALIASES = 100  # alias uses per document; configs use a handful, if any
MAX_DEPTH = 50  # nesting levels; a config is three or four deep
MAX_NODES = 100_000  # nodes the document may expand to, aliases counted at their full size


class Refused(yaml.YAMLError):
    """The document is valid YAML but over one of the limits above, or repeats a key."""

    def __init__(self, message: str, mark: yaml.Mark | None) -> None:
        super().__init__(message)
        self.problem = message
        self.problem_mark = mark


class Loader(yaml.SafeLoader):
    """SafeLoader that counts alias uses, nesting depth and expanded size while composing."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> nodes it expands to

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise Refused(
                    f"more than {MAX_ALIASES} aliases (*name): write the values out",
                    self.peek_event().start_mark,
                )
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise Refused(
                f"nested more than {MAX_DEPTH} levels deep: flatten it",
                self.peek_event().start_mark,
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._count(node)
        return node

    def _count(self, node: yaml.Node) -> None:
        """The size `node` expands to; an alias repeats its anchor's size, so nested aliases
        multiply (the bomb) and are caught here long before anything is built."""
        if id(node) in self._sizes:
            return
        size = 1
        if isinstance(node, yaml.SequenceNode):
            size += sum(self._sizes.get(id(v), 1) for v in node.value)
        elif isinstance(node, yaml.MappingNode):
            size += sum(
                self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value
            )
        self._sizes[id(node)] = size
        if size > MAX_NODES:
            raise Refused(
                f"expands to more than {MAX_NODES} values (aliases of aliases?): write it out",
                node.start_mark,
            )

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base` may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                repeated = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; SafeLoader names that problem itself
                continue
            if repeated:
                raise Refused(f'key "{key}" appears twice: keep one', key_node.start_mark)
        return super().construct_mapping(node, deep)


def load(text: str) -> Any:
    """Parse one YAML document under the limits; errors are yaml.YAMLError (Refused for ours)."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader is a SafeLoader subclass
