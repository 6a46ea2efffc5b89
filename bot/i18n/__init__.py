"""Languages: message catalogs (ar, fr, en) and each chat's language and time zone."""

from bot.i18n.catalogs import LANGUAGES, Catalogs, Texts
from bot.i18n.languages import LanguageService, chat_zone

__all__ = ["LANGUAGES", "Catalogs", "LanguageService", "Texts", "chat_zone"]
