"""Languages: BCP 47 tags, the locale a page file names, and the configured locales with
their fallback rule.

Tags are checked and written in their standard form by langcodes (`en_gb` -> `en-GB`,
`iw` -> `he`), so `de` in front matter, in a file name and in CONTENTAPI_LOCALES are one
locale.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

# A file-name suffix read as a locale without configuration: a two-letter (ISO 639-1)
# language, with an optional script and region (x.de.md, x.pt-br.md, x.zh-hans.md).
# Longer codes are left as part of the name: three-letter ones (ISO 639-3) name
# thousands of languages, and `min` or `art` are more often words than languages.
_SUFFIX = re.compile(r"[A-Za-z]{2}(?:[-_][A-Za-z]{4})?(?:[-_](?:[A-Za-z]{2}|\d{3}))?")


class LocaleError(ValueError):
    """A tag that is not a BCP 47 language tag; the message quotes it."""


# Longer tags are refused unread: RFC 5646 4.4.1 has 35 characters hold any useful tag,
# and a request must not fill the cache below with long private-use ones.
_LONGEST = 64


def normalise(tag: str) -> str:
    """`tag` as a standard BCP 47 tag (case, `_` for `-` and deprecated codes fixed);
    LocaleError when it is none."""
    if len(tag) > _LONGEST:
        raise LocaleError(f"{tag[:40]!r}... is not a BCP 47 language tag (too long)")
    return _normalise(tag)


@functools.lru_cache(maxsize=1024)
def _normalise(tag: str) -> str:
    # Imported here: a server from a built index with no locales configured never checks
    # a tag (langcodes took 32 ms of its imports).
    import langcodes

    written = tag.strip().replace("_", "-")
    if not written or not langcodes.tag_is_valid(written):
        raise LocaleError(f"{tag!r} is not a BCP 47 language tag (such as en, de or pt-BR)")
    standard: str = langcodes.standardize_tag(written)
    return standard


def file_locale(stem: str) -> tuple[str, str | None]:
    """A file name (without its extension) without a locale suffix, and that locale:
    ('mesotherapy', 'de') for mesotherapy.de; (stem, None) when it has none."""
    name, dot, suffix = stem.rpartition(".")
    if not dot or not name or not _SUFFIX.fullmatch(suffix):
        return stem, None
    try:
        return name, normalise(suffix)
    except LocaleError:
        return stem, None


@dataclass(frozen=True, slots=True)
class Locales:
    """The configured locales, the default first; empty: the site has one language and
    pages' locales are what they name, if anything."""

    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, listed: str | Sequence[str], source: str = "CONTENTAPI_LOCALES") -> Locales:
        """Locales from a comma-separated setting or a list; LocaleError naming `source`
        and the bad tag."""
        items = listed.split(",") if isinstance(listed, str) else list(listed)
        tags: list[str] = []
        for item in items:
            if not str(item).strip():
                continue
            try:
                tag = normalise(str(item))
            except LocaleError:
                raise LocaleError(
                    f"{source} holds {str(item).strip()!r}, which is not a BCP 47 language"
                    " tag (such as en, de or pt-BR)"
                ) from None
            if tag not in tags:
                tags.append(tag)
        return cls(tuple(tags))

    @property
    def default(self) -> str | None:
        """The default locale: the first configured."""
        return self.tags[0] if self.tags else None

    def match(self, tag: str) -> str:
        """The configured locale a page's tag stands for: itself, else the first
        configured one of its language (fr_FR is fr on an en,fr site, de is de-DE on an
        en,de-DE one); else the tag as it is (a locale the site does not serve)."""
        if tag in self.tags or not self.tags:
            return tag
        language = tag.split("-", 1)[0]
        return next((t for t in self.tags if t.split("-", 1)[0] == language), tag)

    def folder_locale(self, path: str) -> str | None:
        """The configured locale a page's folders name (de/x.md, Hugo's content folder per
        language; treatments/de/x.md, Decap's multiple_folders inside a collection): the
        first folder named by one, or None."""
        position = self.folder_position(path)
        return None if position is None else normalise(path.split("/")[position])

    def folder_position(self, path: str) -> int | None:
        """Which folder of a page's path names its configured locale, or None."""
        if not self.tags:
            return None
        for position, folder in enumerate(path.split("/")[:-1]):
            try:
                tag = normalise(folder)
            except LocaleError:
                continue
            if tag in self.tags:
                return position
        return None

    def chain(self, locale: str | None, fallback: Sequence[str] | None = None) -> tuple[str, ...]:
        """The locales to try, best first: the requested one, then `fallback` (default:
        the requested language without its region, then the default locale), each once."""
        order: list[str] = []
        if locale is not None:
            order.append(locale)
            if fallback is None and "-" in locale:
                order.append(locale.split("-", 1)[0])
        if fallback is None:
            fallback = (self.default,) if self.default is not None else ()
        order.extend(fallback)
        return tuple(dict.fromkeys(order))

    def check(self, locale: str, what: str = "locale") -> str:
        """A requested locale, normalised; LocaleError listing the configured ones when it
        is not one of them."""
        try:
            tag = normalise(locale)
        except LocaleError:
            tag = ""
        if tag not in self.tags:
            listed = ", ".join(self.tags) if self.tags else "none (set CONTENTAPI_LOCALES)"
            raise LocaleError(
                f"{what} {locale[:40]!r} is not one of the configured locales: {listed}"
            )
        return tag
