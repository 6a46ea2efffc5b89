"""Message catalogs: gettext translations compiled in memory from the shipped .po files."""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.i18n import bidi

LANGUAGES = ("ar", "fr", "en")
LANGUAGE_NAMES = {"ar": "العربية", "fr": "Français", "en": "English"}
DOMAIN = "akhbar"
PLURAL_SUFFIX = "-plural"  # a counted message's msgid_plural is its key plus this
_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@dataclass(frozen=True, slots=True)
class TextStyle:
    """How dates and digits are written: `[bot] date_style`, `arabic_locale`, `digits`."""

    date_style: str = "long"  # "long": 20 مارس 2019; "numeric": 20 - 03 - 2019
    arabic_locale: str = "ar_MA"  # CLDR locale of Arabic dates: Moroccan month names
    digits: str = "latn"  # "latn": 0-9 as Moroccan papers print them; "arab": ٠-٩ in Arabic


class Texts:
    """The user-visible texts of one language; keys are area-prefixed message ids.

    Arabic texts come out laid right to left whatever Latin commands or numbers they hold
    (see bot/i18n/bidi.py), with numbers in the configured digits.
    """

    def __init__(
        self, language: str, translations: gettext.GNUTranslations, style: TextStyle = TextStyle()
    ) -> None:
        self.language = language
        self._translations = translations
        self._style = style
        self.is_rtl = language == "ar"
        self.locale = style.arabic_locale if self.is_rtl else language

    def __call__(self, key: str, /, **values: object) -> str:
        return self._finish(self._translations.gettext(key), values)

    def plural(self, key: str, count: int, /, **values: object) -> str:
        """The form of a counted message for `count` (Arabic has six, French and English two);
        `{count}` in it is the number."""
        text = self._translations.ngettext(key, key + PLURAL_SUFFIX, count)
        return self._finish(text, {**values, "count": count})

    def has(self, key: str) -> bool:
        return self._translations.gettext(key) != key

    def digits(self, text: str) -> str:
        """`text` with its digits in the configured style (Arabic-Indic only for Arabic)."""
        arabic_indic = self.is_rtl and self._style.digits == "arab"
        return text.translate(_ARABIC_INDIC) if arabic_indic else text

    @property
    def date_pattern(self) -> str:
        """The CLDR pattern of article and digest dates in this language and style."""
        numeric = self._style.date_style == "numeric"
        return self._translations.gettext("date-pattern-numeric" if numeric else "date-pattern")

    def command(self, command: str) -> str:
        """A `/command` to embed in a message of this language (marked in right-to-left text)."""
        return bidi.command(command) if self.is_rtl else command

    def layout(self, text: str) -> str:
        """Plain text laid out for this language: right to left in Arabic, marks included."""
        return bidi.right_to_left(text) if self.is_rtl else text

    def join(self, values: list[str] | tuple[str, ...]) -> str:
        """A list in this language's punctuation: the Arabic comma in Arabic."""
        return self._translations.gettext("list-separator").join(values)

    def _finish(self, text: str, values: dict[str, object]) -> str:
        if values:
            shown = {k: self.digits(str(v)) if isinstance(v, int) else v for k, v in values.items()}
            text = text.format(**shown)
        return bidi.right_to_left(text) if self.is_rtl else text


def _compile(language: str) -> gettext.GNUTranslations:
    po = resources.files("bot.i18n") / "locales" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Catalogs:
    """All languages' texts, loaded once at start-up."""

    def __init__(self, default_language: str, style: TextStyle = TextStyle()) -> None:
        self.default_language = default_language
        self._texts = {lang: Texts(lang, _compile(lang), style) for lang in LANGUAGES}

    def texts(self, language: str | None) -> Texts:
        return self._texts.get(language or "", self._texts[self.default_language])

    def pick(self, *, chosen: str | None, telegram_code: str | None) -> str:
        """The chat's chosen language, else Telegram's guess (`fr-FR` → `fr`), else the default."""
        if chosen in self._texts:
            return chosen
        guess = (telegram_code or "").split("-")[0].lower()
        return guess if guess in self._texts else self.default_language
