from importlib import resources

from babel.messages.pofile import read_po

from bot.i18n.catalogs import LANGUAGES, Catalogs


def catalog_ids(language: str) -> dict[str, str]:
    po = resources.files("bot.i18n") / "locales" / language / "LC_MESSAGES" / "akhbar.po"
    with po.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle, locale=language) if m.id}


def test_every_language_translates_every_text():
    reference = set(catalog_ids("ar"))
    for language in LANGUAGES:
        texts = catalog_ids(language)
        assert set(texts) == reference, language
        assert all(texts.values()), [k for k, v in texts.items() if not v]


def test_telegram_language_code_is_the_first_guess_then_the_default():
    catalogs = Catalogs("ar")
    assert catalogs.pick(chosen=None, telegram_code="fr-FR") == "fr"
    assert catalogs.pick(chosen=None, telegram_code="de") == "ar"
    assert catalogs.pick(chosen="en", telegram_code="fr") == "en"
