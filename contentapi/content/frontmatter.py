"""Front matter: split it from the body, parse the YAML and check the known keys."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from contentapi.errors import PageError

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _FastYAMLHandler(YAMLHandler):
    """python-frontmatter's YAML handler, on libyaml's C loader when it is there."""

    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


_HANDLER = _FastYAMLHandler()


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """The known keys of a page's front matter, checked, plus all of it JSON-safe."""

    title: str | None
    slug: str | None
    category: str | None
    description: str | None
    date: dt.date | None
    updated: dt.datetime | None
    draft: bool
    indications: tuple[str, ...]
    order: int | None
    raw: dict[str, Any]


def split(text: str) -> tuple[str | None, str, int]:
    """Split a page into (front matter or None, body, first line number of the body)."""
    if not _HANDLER.detect(text):
        return None, text, 1
    match = re.match(r"-{3,}[ \t]*\n(.*?\n)?-{3,}[ \t]*(?:\n|$)", text, re.DOTALL)
    if match is None:
        raise PageError("front matter opened with '---' is never closed", line=1)
    front = match.group(1) or ""
    body_line = text.count("\n", 0, match.end()) + 1
    return front, text[match.end() :], body_line


def parse(front: str | None) -> FrontMatter:
    """Parse and check front matter text; line numbers in errors count from the file's top."""
    data: Any = {}
    if front is not None and front.strip():
        try:
            data = _HANDLER.load(front)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 2 if mark is not None else None
            problem = exc.problem or exc.context or "invalid YAML"
            raise PageError(f"front matter is not valid YAML: {problem}", line=line) from exc
        except yaml.YAMLError as exc:
            raise PageError(f"front matter is not valid YAML: {exc}", line=2) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PageError(
            f"front matter must be a mapping of keys to values, not {_kind(data)}", line=2
        )
    checker = _Checker(data, front or "")
    draft = checker.boolean("draft") is True or checker.boolean("published") is False
    return FrontMatter(
        title=checker.text("title"),
        slug=checker.text("slug"),
        category=checker.text("category") or checker.text("layout"),
        description=checker.text("description"),
        date=checker.date("date"),
        updated=checker.datetime("updated"),
        draft=draft,
        indications=checker.strings("indications"),
        order=checker.integer("order") if "order" in data else checker.integer("weight"),
        raw=json_safe(data),
    )


# Front matter is a handful of keys; YAML aliases can make a few lines expand to
# billions of values ("billion laughs"), so copying stops past this many.
MAX_FRONT_MATTER_VALUES = 100_000
# Deeper front matter is no page's metadata; JSON encoders refuse it past ~250 levels.
MAX_FRONT_MATTER_DEPTH = 64


def json_safe(value: Any) -> Any:
    """Turn YAML values into JSON ones: dates as ISO strings, keys as strings."""
    budget = [MAX_FRONT_MATTER_VALUES]
    return _json_safe(value, budget)


def _json_safe(value: Any, budget: list[int], depth: int = 0) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise PageError(
            f"front matter is too large: more than {MAX_FRONT_MATTER_VALUES} values", line=2
        )
    if depth > MAX_FRONT_MATTER_DEPTH:
        raise PageError(
            f"front matter is nested too deeply: more than {MAX_FRONT_MATTER_DEPTH} levels", line=2
        )
    if isinstance(value, dict):
        return {str(key): _json_safe(item, budget, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(item, budget, depth + 1) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)  # JSON encoders stop at 64 bits; the digits are kept
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and not math.isfinite(value):  # no JSON form
            return None
        return value
    return str(value)


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"the {type(value).__name__} {value!r}"


class _Checker:
    """Reads known keys with their expected types, raising PageError at the key's line."""

    def __init__(self, data: dict[Any, Any], front: str) -> None:
        self.data = data
        self.front = front

    def _line(self, key: str) -> int | None:
        found = re.search(rf"^{re.escape(key)}\s*:", self.front, re.MULTILINE)
        return self.front.count("\n", 0, found.start()) + 2 if found else None

    def _wrong(self, key: str, expected: str) -> PageError:
        value = self.data[key]
        return PageError(f"'{key}' must be {expected}, not {_kind(value)}", line=self._line(key))

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._wrong(key, "a string")
        text = str(value).strip()
        return text or None

    def boolean(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self._wrong(key, "true or false")

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "a whole number")
        if abs(value) > 2**31 - 1:
            raise self._wrong(key, "a whole number between -2147483647 and 2147483647")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(
            isinstance(item, str | int | float) and not isinstance(item, bool) for item in value
        ):
            raise self._wrong(key, "a list of strings")
        return tuple(str(item).strip() for item in value if str(item).strip())

    def date(self, key: str) -> dt.date | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.strip()).date()
            except ValueError:
                pass
        raise self._wrong(key, "a date such as 2024-05-31")

    def datetime(self, key: str) -> dt.datetime | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.strip())
            except ValueError:
                raise self._wrong(key, "a date or date-time such as 2024-05-31T09:00:00Z") from None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        raise self._wrong(key, "a date or date-time such as 2024-05-31T09:00:00Z")
