"""Front matter: split it from the body, parse it (YAML `---`, TOML `+++` or JSON `{`)
and check the known keys."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tomllib
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import yaml
from frontmatter.default_handlers import BaseHandler, JSONHandler, YAMLHandler

from contentapi.content.locales import LocaleError
from contentapi.content.locales import normalise as normalise_locale
from contentapi.errors import PageError

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

Format = Literal["yaml", "toml", "json"]


class _FastYAMLHandler(YAMLHandler):
    """python-frontmatter's YAML handler, on libyaml's C loader when it is there."""

    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


class _TOMLHandler(BaseHandler):
    """TOML between `+++` fences (Hugo, Zola), read with Python's own tomllib (TOML 1.0):
    python-frontmatter's TOMLHandler needs the `toml` package, which reads TOML 0.5 only."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


class _JSONHandler(JSONHandler):
    """JSON front matter (Hugo): an object that starts the file. A first line that is `{`
    alone, or `{` then a quoted key: `{{< shortcode >}}` and `{% liquid %}` start bodies."""

    FM_BOUNDARY = re.compile(r'\{[ \t]*(?:\n|"|$)')


_HANDLERS: dict[Format, BaseHandler] = {
    "yaml": _FastYAMLHandler(),
    "toml": _TOMLHandler(),
    "json": _JSONHandler(),
}
# Where each format's front matter text starts in the file: after the fence line for
# YAML and TOML, on the first line for JSON (its braces are part of it).
_FIRST_LINE: dict[Format, int] = {"yaml": 2, "toml": 2, "json": 1}
_FENCES: dict[Format, str] = {"yaml": "-", "toml": "+"}
# How a top-level key is written at the start of its line, to name the line of a bad value.
_KEY_LINE: dict[Format, str] = {
    "yaml": r"^{key}\s*:",
    "toml": r"^[ \t]*(?:{key}|\"{key}\"|'{key}')\s*=",
    "json": r"\"{key}\"\s*:",  # JSON keys may share a line
}
_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column \d+\)$|\s*\(at end of document\)$")


class Split(NamedTuple):
    """A page's text cut in two: its front matter text (None when it has none), in which
    format, and the body with the file line it starts on."""

    front: str | None
    body: str
    body_line: int
    format: Format = "yaml"


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
    # Languages and redirects (locales.py, redirects.py): the locale front matter names
    # (lang, language or locale, normalised), Hugo's translationKey, and the old paths
    # redirect_from (jekyll-redirect-from) and aliases (Hugo) give, as written.
    locale: str | None = None
    translation_key: str | None = None
    redirect_from: tuple[str, ...] = ()


def detect(text: str) -> Format | None:
    """The format of the front matter that opens the text, or None when none does."""
    for kind in ("yaml", "toml", "json"):
        if _HANDLERS[kind].detect(text):
            return kind
    return None


def split(text: str) -> Split:
    """Split a page into its front matter (YAML, TOML or JSON) and its body."""
    kind = detect(text)
    if kind == "json":
        return _split_json(text)
    if kind is not None:
        return _split_fenced(text, kind)
    return Split(None, text, 1)


def _split_fenced(text: str, kind: Format) -> Split:
    fence = re.escape(_FENCES[kind])
    match = re.match(rf"{fence}{{3,}}[ \t]*\n(.*?\n)?{fence}{{3,}}[ \t]*(?:\n|$)", text, re.DOTALL)
    if match is None:
        opened = _FENCES[kind] * 3
        raise PageError(f"front matter opened with '{opened}' is never closed", line=1)
    body_line = text.count("\n", 0, match.end()) + 1
    return Split(match.group(1) or "", text[match.end() :], body_line, kind)


def _split_json(text: str) -> Split:
    """The JSON object that starts the text is the front matter; the body follows its
    closing brace (from the next line when nothing else is on that one)."""
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        raise PageError(f"front matter is not valid JSON: {exc.msg}", line=exc.lineno) from exc
    rest = re.match(r"[ \t]*(?:\n|$)", text[end:])
    start = end + rest.end() if rest else end
    return Split(text[:end], text[start:], text.count("\n", 0, start) + 1, "json")


def load(front: str | None, kind: Format = "yaml") -> Any:
    """The front matter's data as its format reads it; errors name the file's line."""
    if front is None or not front.strip():
        return {}
    first = _FIRST_LINE[kind]
    handler = _HANDLERS[kind]
    line: int | None
    try:
        return handler.load(front)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise PageError(f"front matter is not valid YAML: {problem}", line=line) from exc
    except yaml.YAMLError as exc:
        raise PageError(f"front matter is not valid YAML: {exc}", line=first) from exc
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        if position is None:
            line = None
        elif position.group(1):
            line = int(position.group(1)) + first - 1
        else:  # at end of document: where the closing fence stands
            line = front.count("\n") + first
        problem = message[: position.start()] if position else message
        raise PageError(f"front matter is not valid TOML: {problem}", line=line) from exc
    except json.JSONDecodeError as exc:
        raise PageError(
            f"front matter is not valid JSON: {exc.msg}", line=exc.lineno + first - 1
        ) from exc


def peek(text: str) -> dict[str, Any]:
    """The front matter of a page's text as written, unchecked; {} when it has none or
    cannot be read (the page's own load reports that). For a quick look at one key."""
    try:
        found = split(text)
        data = load(found.front, found.format)
    except PageError:
        return {}
    return data if isinstance(data, dict) else {}


def parse(front: str | None, kind: Format = "yaml") -> FrontMatter:
    """Parse and check front matter text; line numbers in errors count from the file's top."""
    first = _FIRST_LINE[kind]
    data = load(front, kind)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PageError(
            f"front matter must be a mapping of keys to values, not {_kind(data)}", line=first
        )
    checker = _Checker(data, front or "", kind)
    draft = checker.boolean("draft") is True or checker.boolean("published") is False
    date = checker.date(_first_given(data, _DATE_KEYS))
    updated = checker.datetime(_first_given(data, _UPDATED_KEYS))
    return FrontMatter(
        title=checker.text("title"),
        slug=checker.text("slug"),
        category=checker.text("category") or checker.text("layout"),
        description=checker.text("description"),
        date=date,
        updated=updated,
        draft=draft,
        indications=checker.strings("indications"),
        order=checker.integer("order") if "order" in data else checker.integer("weight"),
        raw=json_safe(data, line=first),
        locale=checker.locale(),
        translation_key=checker.text("translationKey"),
        redirect_from=(*checker.paths("redirect_from"), *checker.paths("aliases")),
    )


# Where a missing date is found instead: Hugo's publishDate, then Astro's pubDate; and a
# missing updated: Hugo's lastmod, then Astro's updatedDate.
_DATE_KEYS = ("date", "publishDate", "pubDate")
_LOCALE_KEYS = ("lang", "language", "locale")
_UPDATED_KEYS = ("updated", "lastmod", "updatedDate")


def _first_given(data: dict[Any, Any], keys: tuple[str, ...]) -> str:
    """The first key holding a value (`date:` and `date: ''` hold none), else the first.

    Each key as written first, then in any case: Hugo reads `publishdate` or `lastMod`."""
    spellings: dict[str, list[str]] = {key.lower(): [] for key in keys}
    for written in data:
        if isinstance(written, str) and written.lower() in spellings:
            spellings[written.lower()].append(written)
    for key in keys:
        for written in (key, *spellings[key.lower()]):
            value = data.get(written)
            if value is not None and not (isinstance(value, str) and not value.strip()):
                return written
    return keys[0]


# The Jekyll way to write a date-time: a space before the zone (`2016-03-08 10:00:00 +0100`).
_SPACED_ZONE = re.compile(r"(?<=\d)\s+(?=(?:Z|[+-]\d{2}:?\d{2})$)")
# A date with an English month name, as Astro's blog template writes it (`Jul 08 2022`,
# which JavaScript's Date reads) and Jekyll's Ruby reads (`July 8, 2022`, `8 July 2022`).
_MONTH_FIRST = re.compile(r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})")
_DAY_FIRST = re.compile(r"(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?,?\s+(?P<year>\d{4})")
_MONTHS = {
    name: number
    for number, full in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
    for name in (full, full[:3], "sept" if number == 9 else full)
}


def to_date(value: object) -> dt.date | None:
    """A date as sites write it: an ISO 8601 date or date-time (the date as written, in
    its own zone), Jekyll's `2016-03-08 10:00:00 +0100`, an English month name (`Jul 08
    2022`, `July 8, 2022`, `8 July 2022`), or a date YAML or TOML already read. None for
    no value (`date:`, `date: ''`); ValueError for anything else."""
    if isinstance(value, str):
        value = _from_text(value)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise ValueError(f"{value!r} is not a date")


def to_datetime(value: object) -> dt.datetime | None:
    """A date-time as sites write it (see to_date); one without a zone is UTC, a date is
    its midnight UTC. None for no value; ValueError for anything else."""
    if isinstance(value, str):
        value = _from_text(value)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    raise ValueError(f"{value!r} is not a date-time")


def _from_text(text: str) -> dt.datetime | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(_SPACED_ZONE.sub("", text))
    except ValueError:
        pass
    named = _MONTH_FIRST.fullmatch(text) or _DAY_FIRST.fullmatch(text)
    month = _MONTHS.get(named.group("month").lower()) if named else None
    if named and month:
        try:
            return dt.datetime(int(named.group("year")), month, int(named.group("day")))
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a date")


# Front matter is a handful of keys; YAML aliases can make a few lines expand to
# billions of values ("billion laughs"), so copying stops past this many.
MAX_FRONT_MATTER_VALUES = 100_000
# Deeper front matter is no page's metadata; JSON encoders refuse it past ~250 levels.
MAX_FRONT_MATTER_DEPTH = 64


def json_safe(value: Any, line: int = 2) -> Any:
    """Turn YAML, TOML or JSON values into JSON ones: dates and times as ISO strings, keys
    as strings; `line` (where the front matter starts) names a front matter too large."""
    budget = [MAX_FRONT_MATTER_VALUES]
    return _json_safe(value, budget, line)


def _json_safe(value: Any, budget: list[int], line: int, depth: int = 0) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise PageError(
            f"front matter is too large: more than {MAX_FRONT_MATTER_VALUES} values", line=line
        )
    if depth > MAX_FRONT_MATTER_DEPTH:
        raise PageError(
            f"front matter is nested too deeply: more than {MAX_FRONT_MATTER_DEPTH} levels",
            line=line,
        )
    if isinstance(value, dict):
        return {str(key): _json_safe(item, budget, line, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(item, budget, line, depth + 1) for item in value]
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

    def __init__(self, data: dict[Any, Any], front: str, kind: Format = "yaml") -> None:
        self.data = data
        self.front = front
        self.kind = kind

    def _line(self, key: str) -> int | None:
        pattern = _KEY_LINE[self.kind].format(key=re.escape(key))
        found = re.search(pattern, self.front, re.MULTILINE)
        if found is None:
            return None
        return self.front.count("\n", 0, found.start()) + _FIRST_LINE[self.kind]

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

    def locale(self) -> str | None:
        """The first of lang, language and locale given, as a standard BCP 47 tag."""
        for key in _LOCALE_KEYS:
            written = self.text(key)
            if written is not None:
                try:
                    return normalise_locale(written)
                except LocaleError:
                    raise PageError(
                        f"'{key}' must be a BCP 47 language tag such as en, de or pt-BR,"
                        f" not {written!r}",
                        line=self._line(key),
                    ) from None
        return None

    def paths(self, key: str) -> tuple[str, ...]:
        """Site paths: one string or a list of them."""
        value = self.data.get(key)
        if isinstance(value, str):
            return (value.strip(),) if value.strip() else ()
        try:
            return self.strings(key)
        except PageError:
            raise self._wrong(key, "a site path or a list of them") from None

    def date(self, key: str) -> dt.date | None:
        try:
            return to_date(self.data.get(key))
        except ValueError:
            raise self._wrong(key, "a date such as 2024-05-31") from None

    def datetime(self, key: str) -> dt.datetime | None:
        try:
            return to_datetime(self.data.get(key))
        except ValueError:
            raise self._wrong(key, "a date or date-time such as 2024-05-31T09:00:00Z") from None
