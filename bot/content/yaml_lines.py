"""YAML loading that remembers where every mapping key and list item came from.

Content authors fix errors by line number, so each loaded mapping and list carries the
1-based line of each of its entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LineDict(dict):
    """A dict that knows the line of each key (and its own first line)."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A list that knows the line of each item."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class LocatedError(Exception):
    """Something wrong in a file an author wrote, reported as `path:line: message`."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class YamlError(LocatedError):
    """A YAML file could not be parsed; `line` is 1-based."""


# libyaml's parser when PyYAML has it (several times faster), the pure-Python one otherwise;
# the line-keeping constructors below work on either.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                # PyYAML silently keeps the last duplicate key; an author would never notice.
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = seen
        return mapping

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LineList:
        items = LineList(super().construct_sequence(node, deep=True))
        items.line = node.start_mark.line + 1
        items.item_lines = [child.start_mark.line + 1 for child in node.value]
        return items


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_sequence
)


def load_yaml(path: Path) -> Any:
    """Parse one YAML file, raising YamlError with the file and line on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(path, 1, f"cannot read file: {exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise YamlError(path, line, f"{exc.problem or exc.context}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, str(exc)) from exc


def load_mapping(
    path: Path, allowed: tuple[str, ...], error: type[LocatedError], what: str
) -> LineDict:
    """A file whose top level is a mapping with known keys (an alert, a script).

    Every problem is raised as `error` with the file and line: a YAML syntax error, a top
    level that is not a mapping, or an unknown key.
    """
    try:
        root = load_yaml(path)
    except YamlError as exc:
        raise error(exc.path, exc.line, exc.message) from None
    if not isinstance(root, LineDict):
        raise error(path, 1, f"{what} must be a mapping with {', '.join(allowed[1:])}")
    for key in root:
        if key not in allowed:
            raise error(
                path, root.line_of(key), f"unknown key {key!r} (allowed: {', '.join(allowed)})"
            )
    return root
