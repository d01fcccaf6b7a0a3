"""Strict YAML for the law-as-data files: duplicate keys refused, line numbers kept.

Dates stay strings until a field validator parses them, so a bad date is reported with
its file, line and field instead of being silently turned into something else.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from typing import Any

import yaml

from tipstaff.engine.errors import DataError


class Node(dict[str, Any]):
    """A YAML mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict[str, int]
    source: str = ""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and keeps dates as strings."""


# YAML 1.1 reads on/off/yes/no as booleans ("on: 2013-11-14" would become True) and
# bare dates as timestamps; here only true/false are booleans and dates stay text.
_BOOL = "tag:yaml.org,2002:bool"
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:timestamp", _BOOL)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                    list("tTfF"))


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> Node:
    result = Node()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    result.source = loader.name
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, str):
            raise DataError(f"keys must be text; got {key!r}", file=loader.name, line=line)
        if key in result:
            raise DataError(f"duplicate key (first at line {result.key_lines[key]})",
                            file=loader.name, line=line, field=key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                              _construct_mapping)


def load_yaml(text: str, *, source: str) -> Any:
    """Parse one YAML document strictly; syntax errors become :class:`DataError`."""
    loader = _StrictLoader(text)
    loader.name = source
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise DataError(f"not valid YAML: {exc.problem}", file=source,
                        line=mark.line + 1 if mark else None) from None
    finally:
        loader.dispose()


def line_of(node: Node, key: str) -> int:
    """The line of ``key`` in ``node``, or of the node itself when the key is absent."""
    return node.key_lines.get(key, node.line)


def error(node: Node, key: str | None, message: str) -> DataError:
    """A :class:`DataError` pointing at ``key`` of ``node``."""
    return DataError(message, file=node.source, line=line_of(node, key) if key else node.line,
                     field=key)


def suggest(word: str, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` when a close match exists, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keys(node: Any, *, required: Iterable[str], optional: Iterable[str] = (),
               what: str, parent: Node | None = None, key: str | None = None) -> Node:
    """Require a mapping with exactly the allowed keys; returns it typed as :class:`Node`."""
    if not isinstance(node, Node):
        if parent is not None:
            raise error(parent, key, f"{what} must be a mapping")
        raise DataError(f"{what} must be a mapping")
    required = list(required)
    allowed = {*required, *optional}
    for name in node:
        if name not in allowed:
            raise error(node, name, f"unknown key in {what}{suggest(name, allowed)}; "
                                    f"expected one of {', '.join(sorted(allowed))}")
    for name in required:
        if name not in node:
            raise error(node, None, f"{what} is missing required key {name!r}")
    return node


def text(node: Node, key: str, *, default: str | None = None) -> str:
    """A non-empty string field."""
    if key not in node and default is not None:
        return default
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise error(node, key, f"expected non-empty text; got {value!r}")
    return value


def integer(node: Node, key: str, *, low: int | None = None, high: int | None = None) -> int:
    """An integer field within ``[low, high]``."""
    value = node.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise error(node, key, f"expected a whole number; got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise error(node, key, f"expected a number from {low} to {high}; got {value}")
    return value


def date_value(node: Node, key: str, value: Any = None) -> dt.date:
    """A ``YYYY-MM-DD`` field (or ``value`` when given, reported against ``key``)."""
    raw = node.get(key) if value is None else value
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise error(node, key, f"expected a real date as YYYY-MM-DD; got {raw!r}") from None


def time_value(node: Node, key: str) -> dt.time:
    """An ``HH:MM`` field."""
    raw = node.get(key)
    try:
        return dt.time.fromisoformat(str(raw))
    except ValueError:
        raise error(node, key, f"expected a time as HH:MM; got {raw!r}") from None


def choice(node: Node, key: str, choices: Iterable[str], *, default: str | None = None) -> str:
    """A field whose value must be one of ``choices``."""
    options = list(choices)
    if key not in node and default is not None:
        return default
    value = node.get(key)
    if value not in options:
        raise error(node, key, f"expected one of {', '.join(options)}; got {value!r}"
                               f"{suggest(str(value), options)}")
    return str(value)
