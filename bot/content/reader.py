"""The line-tracking reader every content file kind shares: located errors, schema checks.

All problems are collected, not just the first, so an author sees the whole list at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content.model import LANGUAGES, Localized, Location
from bot.content.yaml_lines import LineDict, LineList, YamlError, load_yaml


@dataclass(frozen=True)
class ContentError:
    path: Path
    line: int
    message: str
    unparsed: bool = False  # the file could not be read as YAML at all
    warning: bool = False  # worth fixing, but the content still loads

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'warning: ' if self.warning else ''}{self.message}"


class InvalidContent(Exception):
    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class SchemaReader:
    """Schema checks for one file, appending located errors instead of raising."""

    def __init__(
        self,
        path: Path,
        errors: list[ContentError],
        where: dict[tuple[str, str], Location] | None = None,
    ) -> None:
        self.path = path
        self.errors = errors
        # where each item was defined, shared across files, for cross-reference errors
        self.where = where if where is not None else {}

    def error(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def mapping(self, value: Any, line: int, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.error(line, f"{what} must be a mapping")
        return None

    def keys(
        self, mapping: LineDict, allowed: Iterable[str], required: Iterable[str], what: str
    ) -> None:
        allowed = set(allowed)
        for key in mapping:
            if key not in allowed:
                self.error(
                    mapping.line_of(key),
                    f"unknown key {key!r} in {what} (allowed: {', '.join(sorted(allowed))})",
                )
        for key in required:
            if key not in mapping:
                self.error(mapping.line, f"{what} is missing {key!r}")

    def text(self, mapping: LineDict, key: str, what: str) -> str:
        value = mapping.get(key)
        if (
            isinstance(value, (str, int, float))
            and not isinstance(value, bool)
            and str(value).strip()
        ):
            return str(value)
        if key in mapping:
            self.error(mapping.line_of(key), f"{what}.{key} must be non-empty text")
        return ""

    def localized(self, mapping: LineDict, key: str, what: str) -> Localized:
        """A {zh: ..., en: ...} value; both translations are required."""
        value = mapping.get(key)
        line = mapping.line_of(key)
        if value is None:
            self.error(mapping.line, f"{what} is missing {key!r}")
            return {}
        if isinstance(value, str):
            self.error(
                line, f"{what}.{key} needs a translation per language ({', '.join(LANGUAGES)})"
            )
            return {}
        inner = self.mapping(value, line, f"{what}.{key}")
        if inner is None:
            return {}
        self.keys(inner, LANGUAGES, (), f"{what}.{key}")
        result: Localized = {}
        for lang in LANGUAGES:
            if lang not in inner:
                self.error(inner.line, f"{what}.{key} is missing the {lang!r} translation")
            else:
                result[lang] = self.text(inner, lang, f"{what}.{key}")
        return result

    def string_list(
        self, value: Any, line: int, what: str
    ) -> tuple[tuple[str, ...], tuple[int, ...]]:
        if not isinstance(value, LineList):
            self.error(line, f"{what} must be a list")
            return (), ()
        items, lines = [], []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                items.append(item.strip())
                lines.append(value.line_of(index))
            else:
                self.error(value.line_of(index), f"{what} items must be non-empty text")
        return tuple(items), tuple(lines)

    def entry(self, value: Any, line: int, what: str, keys: tuple[str, ...]) -> LineDict | None:
        """One section entry that is a mapping with exactly these keys, all required; None,
        with the error recorded, when it is no mapping at all."""
        mapping = self.mapping(value, line, what)
        if mapping is not None:
            self.keys(mapping, keys, keys, what)
        return mapping

    def localized_entry(self, value: Any, line: int, what: str) -> Localized | None:
        """One section entry that is itself {zh: ..., en: ...}."""
        mapping = self.mapping(value, line, what)
        return None if mapping is None else self.plain_localized(mapping, what)

    def plain_localized(self, mapping: LineDict, what: str) -> Localized:
        """A mapping that is itself {zh: ..., en: ...}."""
        self.keys(mapping, LANGUAGES, (), what)
        result: Localized = {}
        for lang in LANGUAGES:
            if lang not in mapping:
                self.error(mapping.line, f"{what} is missing the {lang!r} translation")
            else:
                result[lang] = self.text(mapping, lang, what)
        return result

    def number(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)  # YAML's yes


def read_file(path: Path, errors: list[ContentError]) -> LineDict | None:
    try:
        data = load_yaml(path)
    except YamlError as exc:
        errors.append(ContentError(exc.path, exc.line, exc.message, unparsed=True))
        return None
    reader = SchemaReader(path, errors)
    if data is None:
        reader.error(1, "file is empty")
        return None
    root = reader.mapping(data, 1, "the file")
    if root is None:
        return None
    if "version" not in root:
        reader.error(root.line, "missing 'version:' (the content format version, 1)")
    elif root["version"] != 1:
        reader.error(root.line_of("version"), f"unsupported version {root['version']!r}; use 1")
    return root


def yaml_files(folder: Path, errors: list[ContentError]) -> list[Path]:
    if not folder.is_dir():
        errors.append(ContentError(folder, 0, "folder not found"))
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
