"""Every word the bot says to a user, in English and Hindi, from gettext catalogues.

The words live in `handlers/locales/` as standard gettext files a translator's tools open:
- `amigo.pot`: what users see, in English (the source). Each entry's `msgctxt` is the key the
  code uses (`t("age.ask")`), its `msgid` the English text.
- `hi.po`: the same entries in Hindi. An entry whose English changed no longer matches until it
  is translated again (tests/test_texts.py fails until then); meanwhile it shows in English.
- `staff.pot`: what staff see (admin commands and their replies), English only.

Which language `t()` speaks is the person's, set once per event by the dispatcher
(`with speaking(account.language):`) and per recipient where one message goes to many
(`handlers/staff.tell`). Nothing here reads a database or knows Telegram.

Plurals are gettext's: an entry with `msgid_plural` picks its form by the number named in its
`#. plural: <placeholder>` comment. `#. counted: <placeholder>` renders that placeholder's number
with the `count.<placeholder>` entry ("3 conversations"), for texts with two counts.
A `{complain}` placeholder is filled with the route to complain (`policy.complain`).
"""

from __future__ import annotations

import functools
import gettext
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from io import BytesIO

from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ENGLISH, HINDI = "en", "hi"
LANGUAGES = (ENGLISH, HINDI)
"""Every language the bot speaks, the default first."""
LANGUAGE_NAMES = {ENGLISH: "English", HINDI: "हिन्दी"}
"""Each language in its own script: how a switch button names it."""

_current: ContextVar[str] = ContextVar("amigo_language", default=ENGLISH)
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def language_of(code: str | None) -> str:
    """One of LANGUAGES for a code from Telegram (`hi`, `hi-IN`), a button or the database;
    anything else is English."""
    base = (code or "").lower().replace("_", "-").split("-", 1)[0]
    return base if base in LANGUAGES else ENGLISH


@contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Within the block, `t()` speaks `language` (in this task and the tasks it starts)."""
    chosen = language_of(language)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def speak(language: str | None) -> None:
    """From here on, `t()` speaks `language`, until the enclosing `speaking` block ends (the
    dispatcher opens one per event, and switches to the person's choice once it is known)."""
    _current.set(language_of(language))


def current_language() -> str:
    return _current.get()


@dataclass(frozen=True)
class Entry:
    """One catalogue entry in the source language."""

    key: str
    one: str
    many: str | None = None
    plural: str | None = None
    counted: tuple[str, ...] = ()
    staff: bool = False

    @property
    def placeholders(self) -> set[str]:
        return set(PLACEHOLDER.findall(self.one)) | set(PLACEHOLDER.findall(self.many or ""))


class Catalogue:
    """The English entries by key, and each other language's gettext translations."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}
        for name, staff in (("amigo.pot", False), ("staff.pot", True)):
            for message in _read_catalog(name):
                if message.id and message.context:
                    self.entries[message.context] = _entry(message, staff=staff)
        self.translations: dict[str, gettext.NullTranslations] = {
            ENGLISH: gettext.NullTranslations()
        }
        for language in LANGUAGES[1:]:
            buffer = BytesIO()
            write_mo(buffer, _read_catalog(f"{language}.po"))
            buffer.seek(0)
            self.translations[language] = gettext.GNUTranslations(buffer)

    def text(self, language: str, key: str, values: dict[str, object]) -> str:
        entry = self.entries[key]
        speak = self.translations[ENGLISH if entry.staff else language]
        if "complain" in entry.placeholders and "complain" not in values:
            values["complain"] = self.text(language, "policy.complain", {})
        for name in entry.counted:
            values[name] = self.text(language, f"count.{name}", {"n": values[name]})
        if entry.many is None:
            found = speak.pgettext(key, entry.one)
        else:
            count = values[entry.plural or "n"]
            assert isinstance(count, int), f"{key}: {entry.plural} must be a number"
            found = speak.npgettext(key, entry.one, entry.many, count)
        return found.format(**values) if values else found


def _read_catalog(name: str) -> Catalog:
    path = resources.files("handlers").joinpath("locales", name)
    with path.open("rb") as file:
        return read_po(file)


def _entry(message: Message, *, staff: bool) -> Entry:
    notes = dict(c.split(": ", 1) for c in message.auto_comments if ": " in c)
    counted = tuple(notes.get("counted", "").split())
    if isinstance(message.id, tuple | list):
        one, many = str(message.id[0]), str(message.id[1])
        return Entry(str(message.context), one, many, notes.get("plural", "n"), counted, staff)
    return Entry(str(message.context), str(message.id), counted=counted, staff=staff)


@functools.cache
def catalogue() -> Catalogue:
    """Read once, on first use (no work at import time)."""
    return Catalogue()


def t(key: str, /, **values: object) -> str:
    """The text for `key` in the current language, with placeholders filled."""
    return catalogue().text(_current.get(), key, dict(values))


def policy_text() -> str:
    """The full privacy policy in the current language (its contact placeholder unfilled)."""
    name = (
        "privacy_policy.txt"
        if _current.get() == ENGLISH
        else f"privacy_policy.{_current.get()}.txt"
    )
    return resources.files("handlers").joinpath(name).read_text("utf-8")


def day(value: date | datetime) -> str:
    """A date as people write it in the current language: 5 May 2026, 5 मई 2026."""
    return format_date(value, "dd MMM y", locale=_babel_locale())


def moment(value: datetime) -> str:
    """A time in UTC with its date, in the current language."""
    return format_datetime(value, "dd MMM y, HH:mm 'UTC'", tzinfo=None, locale=_babel_locale())


def _babel_locale() -> str:
    return "hi_IN" if _current.get() == HINDI else "en"
