"""The text catalogue: every message in both languages, with the same placeholders, and plurals,
dates and language codes as each language has them (D5.3: the notice in Hindi as well)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from handlers.commands import COMMANDS
from handlers.texts import (
    ENGLISH,
    HINDI,
    LANGUAGES,
    PLACEHOLDER,
    catalogue,
    day,
    language_of,
    policy_text,
    speaking,
    t,
)

ROOT = Path(__file__).resolve().parents[1]
CALL = re.compile(r"""\bt\(\s*"([a-z][\w]*\.[\w.]+|[a-z]+)"(?=[,)])""")
DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def read(name: str) -> Catalog:
    with resources.files("handlers").joinpath("locales", name).open("rb") as file:
        return read_po(file)


def messages(catalog: Catalog) -> dict[str, Message]:
    return {str(m.context): m for m in catalog if m.id}


def forms(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, tuple | list) else (str(value),)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.promise("D5.3")
def test_every_user_facing_message_is_in_hindi_with_the_same_english_source() -> None:
    english, hindi = messages(read("amigo.pot")), messages(read("hi.po"))
    assert sorted(set(english) - set(hindi)) == [], "untranslated (missing from hi.po)"
    assert sorted(set(hindi) - set(english)) == [], "in hi.po but no longer in amigo.pot"
    stale = [key for key, m in hindi.items() if forms(m.id) != forms(english[key].id)]
    assert stale == [], "the English changed since translation: translate these again"
    fuzzy = [key for key, m in hindi.items() if m.fuzzy]
    empty = [key for key, m in hindi.items() if not all(forms(m.string))]
    assert fuzzy == [] and empty == []
    assert len(english) > 250  # the whole catalogue, not a part of it


@pytest.mark.promise("D5.3")
def test_each_translation_has_exactly_the_english_placeholders() -> None:
    english, hindi = messages(read("amigo.pot")), messages(read("hi.po"))
    wrong: list[str] = []
    for key, message in hindi.items():
        want = set().union(*(placeholders(f) for f in forms(english[key].id)))
        for form in forms(message.string):
            if placeholders(form) != want:  # a missing one loses a fact, an extra one crashes
                wrong.append(f"{key}: {sorted(placeholders(form) ^ want)}")
            if "{" in PLACEHOLDER.sub("", form) or "}" in PLACEHOLDER.sub("", form):
                wrong.append(f"{key}: a stray brace")
    assert wrong == []


def test_the_placeholder_check_fails_on_a_missing_or_an_extra_placeholder() -> None:
    """The test above would catch a translator's slip: shown on a made-up pair."""
    english = "Deleted: {conversations}, {n} messages."
    assert placeholders("हटाया गया: {n} संदेश।") != placeholders(english)  # one missing
    assert placeholders("{conversations}, {n}, {extra}") != placeholders(english)  # one extra
    assert placeholders("हटाया गया: {conversations}, {n} संदेश।") == placeholders(english)


def test_staff_texts_stay_english_and_apart_from_what_users_see() -> None:
    user, staff = set(messages(read("amigo.pot"))), set(messages(read("staff.pot")))
    assert user.isdisjoint(staff) and len(staff) > 50
    assert not staff & set(messages(read("hi.po")))
    with speaking(HINDI):
        assert t("admin.need_reason") == "Please give a reason."
        assert DEVANAGARI.search(t("admin.banned_notice", contact="x@example.com"))


def test_every_key_the_code_uses_exists() -> None:
    known = catalogue().entries
    used: set[str] = set()
    for folder in ("handlers", "bot", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(CALL.findall(path.read_text("utf-8")))
    assert len(used) > 200
    assert sorted(used - set(known)) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_renders_in_each_language(language: str) -> None:
    """Each entry, with its placeholders filled, renders without an error in both languages."""
    with speaking(language):
        for key, entry in catalogue().entries.items():
            values: dict[str, object] = {name: 2 for name in entry.placeholders}
            assert t(key, **values), key


def test_plurals_follow_each_language() -> None:
    assert t("delete.done", conversations=1, n=1) == "Deleted: 1 conversation, 1 message."
    assert t("delete.done", conversations=0, n=2) == "Deleted: 0 conversations, 2 messages."
    assert t("autodelete.button_days", days=1) == "1 day"
    with speaking(HINDI):  # Hindi's "one" is 0 and 1 (CLDR): 1 संदेश की सीमा, 2 संदेशों की सीमा
        assert "0 संदेश की" in t("limits.daily", limit=0) and "1 संदेश की" in t("limits.daily", limit=1)
        assert "2 संदेशों की" in t("limits.daily", limit=2)


def test_telegram_language_codes_pick_the_language() -> None:
    assert [language_of(c) for c in ("hi", "hi-IN", "HI", "hi_IN")] == [HINDI] * 4
    assert [language_of(c) for c in ("en", "en-US", "fr", "", None, "hin")] == [ENGLISH] * 6


def test_dates_are_written_in_the_language() -> None:
    when = datetime(2026, 5, 3, 9, 30, tzinfo=UTC)
    assert day(when) == "03 May 2026"
    with speaking(HINDI):
        assert day(when) == "03 मई 2026"


def test_commands_have_short_descriptions_in_every_language() -> None:
    for language in LANGUAGES:
        with speaking(language):
            for command in COMMANDS:
                assert 1 <= len(t(command.help_key)) <= 256, (language, command.name)


@pytest.mark.promise("D5.3")
def test_the_full_policy_ships_in_hindi_with_the_same_sections() -> None:
    def headings(text: str) -> list[str]:
        return re.findall(r"^(\d+(?:\.\d+)?)\.? ", text, re.MULTILINE)

    english = policy_text()
    with speaking(HINDI):
        hindi = policy_text()
    assert headings(hindi) == headings(english) and len(headings(english)) >= 18
    assert hindi.count("{{PRIVACY_CONTACT}}") == english.count("{{PRIVACY_CONTACT}}") > 0
    assert len(DEVANAGARI.findall(hindi)) > len(hindi) / 3
