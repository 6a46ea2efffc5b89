"""Message catalogs: gettext translations compiled in memory from the shipped .po files."""

from __future__ import annotations

import gettext
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("ar", "fr", "en")
LANGUAGE_NAMES = {"ar": "العربية", "fr": "Français", "en": "English"}
DOMAIN = "akhbar"


class Texts:
    """The user-visible texts of one language; keys are area-prefixed message ids."""

    def __init__(self, language: str, translations: gettext.GNUTranslations) -> None:
        self.language = language
        self._translations = translations

    def __call__(self, key: str, /, **values: object) -> str:
        text = self._translations.gettext(key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return self._translations.gettext(key) != key


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

    def __init__(self, default_language: str) -> None:
        self.default_language = default_language
        self._texts = {lang: Texts(lang, _compile(lang)) for lang in LANGUAGES}

    def texts(self, language: str | None) -> Texts:
        return self._texts.get(language or "", self._texts[self.default_language])

    def pick(self, *, chosen: str | None, telegram_code: str | None) -> str:
        """The chat's chosen language, else Telegram's guess (`fr-FR` → `fr`), else the default."""
        if chosen in self._texts:
            return chosen
        guess = (telegram_code or "").split("-")[0].lower()
        return guess if guess in self._texts else self.default_language
