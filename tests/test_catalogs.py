"""Every catalog entry, in all three languages, rendered with sample values."""

from __future__ import annotations

import re
import string
from importlib import resources

import pytest
from babel.messages.pofile import read_po

from bot import formatting
from bot.i18n.catalogs import LANGUAGES, PLURAL_SUFFIX, Catalogs
from emulator.html_parser import parse_html

COUNTS = (0, 1, 2, 3, 11, 100)
NUMBERS = {"number", "id", "count", "max", "min", "page", "pages", "user"}
SAMPLES = {name: 12 for name in NUMBERS}
# Nouns that must be counted through a plural message, never after a bare number.
COUNTED_NOUNS = {
    "ar": r"عنوان|عناوين|حرف|أحرف|بلاغ|جدول|جداول|نتيج|صور",
    "fr": r"titres?|caractères?|signalements?|programmations?|résultats?|images?",
    "en": r"headlines?|characters?|reports?|schedules?|results?|pictures?|images?",
}
COMMAND_NAMES = (
    "start", "help", "latest", "read", "search", "language", "subscribe", "unsubscribe",
    "topics", "digest", "timezone", "settings", "filter", "schedule", "schedules",
    "unschedule", "preview", "report", "reports", "unhide", "ignorereports", "reportthreshold",
)  # fmt: skip
NOT_SENTENCES = {"date-pattern", "date-pattern-numeric", "list-separator"}
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_LATIN_WORD = re.compile(r"(?<![/@\w{])[A-Za-z][A-Za-z'’]+")
_TECHNICAL = re.compile(r"\{\w+\}|/\w+|@\w+|\w+/\w+|https?://\S+|HH:MM|cron|maroc|mon-fri")


def entries(language: str):
    po = resources.files("bot.i18n") / "locales" / language / "LC_MESSAGES" / "akhbar.po"
    with po.open("rb") as handle:
        return [m for m in read_po(handle, locale=language) if m.id]


def key(message) -> str:
    return message.id[0] if message.pluralizable else message.id


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def sample_values(text: str) -> dict[str, object]:
    return {name: SAMPLES.get(name, "<b>«قيمة» & value</b>") for name in fields(text)}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_has_the_placeholders_of_the_arabic_source(language):
    arabic = {key(m): m for m in entries("ar")}
    for message in entries(language):
        source = arabic[key(message)]
        if message.pluralizable:
            allowed = set.union(*(fields(form) for form in source.string))
            assert all(fields(form) <= allowed | {"count"} for form in message.string), key(message)
            assert message.id[1] == key(message) + PLURAL_SUFFIX
        else:
            assert fields(message.string) == fields(source.string), (language, key(message))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_renders_as_html_telegram_accepts(language):
    t = Catalogs("ar").texts(language)
    for message in entries(language):
        if message.pluralizable:
            rendered = [formatting.escape(t.plural(key(message), n)) for n in COUNTS]
        else:
            rendered = [formatting.text(t, key(message), **sample_values(message.string))]
        for html in rendered:
            parsed = parse_html(html)
            assert parsed.text.strip(), key(message)
            assert "&lt;b&gt;" in html or "<b>" not in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_messages_have_every_form_of_the_language(language):
    forms = {"ar": 6, "fr": 2, "en": 2}[language]
    plurals = [m for m in entries(language) if m.pluralizable]
    assert len(plurals) >= 5
    for message in plurals:
        assert len(message.string) == forms and all(message.string), key(message)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_noun_is_counted_outside_a_plural_message(language):
    bare = re.compile(
        r"\{(?:count|max|min|total|threshold)\}\s*(?:" + COUNTED_NOUNS[language] + r")"
    )
    for message in entries(language):
        if not message.pluralizable:
            assert not bare.search(message.string), (language, key(message))


def test_arabic_plurals_take_all_six_forms():
    t = Catalogs("ar").texts("ar")
    shown = [t.plural("count-headlines", n) for n in COUNTS]
    assert shown == ["لا عناوين", "عنوان واحد", "عنوانان", "3 عناوين", "11 عنوانا", "100 عنوان"]
    assert [t.plural("count-characters", n) for n in (3, 200)] == ["3 أحرف", "200 حرف"]
    assert t.plural("count-results", 2) == "نتيجتان"
    assert t.plural("count-reports", 2) == "بلاغين"  # after من and بعد: genitive dual


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["0 titre", "1 titre", "2 titres", "3 titres", "11 titres", "100 titres"]),
        ("en", ["0 headlines", "1 headline", "2 headlines", "3 headlines", "11 headlines",
                "100 headlines"]),
    ],
)  # fmt: skip
def test_french_and_english_plurals(language, expected):
    t = Catalogs("ar").texts(language)
    assert [t.plural("count-headlines", n) for n in COUNTS] == expected


def test_no_arabic_entry_has_a_latin_only_sentence():
    for message in entries("ar"):
        if key(message) in NOT_SENTENCES:
            continue
        texts = message.string if message.pluralizable else (message.string,)
        for text in texts:
            for line in text.splitlines():
                latin = _LATIN_WORD.findall(_TECHNICAL.sub(" ", line))
                assert _ARABIC_LETTER.search(line) or len(latin) < 2, (key(message), line)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_command_named_in_a_text_is_one_telegram_makes_tappable(language):
    # A letter right before the slash ("و/schedules") hides the command from Telegram.
    glued = re.compile(r"\w/(?:" + "|".join(sorted(COMMAND_NAMES, key=len, reverse=True)) + r")\b")
    for message in entries(language):
        texts = message.string if message.pluralizable else (message.string,)
        assert not any(glued.search(text) for text in texts), (language, key(message))
