"""Locales in the schema: a request's locale and fallback chain, checked against the
configured locales, and the translations of the view it reads."""

from __future__ import annotations

from collections.abc import Sequence

from contentapi.content.locales import LocaleError
from contentapi.content.translations import Translations, translations_of
from contentapi.schema.context import Context
from contentapi.schema.errors import QueryError

LOCALE_HELP = (
    "A configured locale (CONTENTAPI_LOCALES): each translation group shows its page in "
    "it, else in the first locale of fallback that it has; the default locale when left out."
)
FALLBACK_HELP = (
    "Locales to fall back to, in order, where a page has no translation in locale; by "
    "default the locale's language without its region, then the default locale."
)


def translations(context: Context) -> Translations:
    """The translations of the request's view under the configured locales."""
    view = context.view
    return translations_of(view, view.treatments, context.locales)


def chain(
    context: Context, locale: str | None, fallback: Sequence[str] | None = None
) -> tuple[str, ...] | None:
    """The locales a request asks for, best first; None when the site has no locales and
    the request names none (then every page is listed, as before locales)."""
    locales = context.locales
    if locale is None and fallback is None and not locales.tags:
        return None
    try:
        asked = locales.check(locale) if locale is not None else None
        back = [locales.check(tag, "fallback locale") for tag in fallback or ()]
    except LocaleError as exc:
        raise QueryError(str(exc)) from None
    if asked is None and fallback is None:
        asked = locales.default
    return locales.chain(asked, back if fallback is not None else None)
