"""Cutting titles and bodies to the [ingestion] limits."""

from bot.ingestion.limits import shorten, within_limits
from bot.models import ArticleDraft


def test_text_that_fits_is_kept_as_it_is():
    assert shorten("خبر قصير", 8) == "خبر قصير"


def test_a_cut_falls_between_words_and_ends_in_an_ellipsis():
    assert shorten("المغرب يعود إلى الساعة القانونية", 20) == "المغرب يعود إلى…"


def test_a_single_endless_word_is_cut_inside_it():
    assert shorten("ح" * 1_000, 50) == "ح" * 49 + "…"


def test_only_drafts_over_a_limit_are_changed_and_counted():
    short = ArticleDraft(source="s", title="عنوان", body="نص")
    long_body = ArticleDraft(source="s", title="عنوان", body="كلمة " * 100)
    [kept, cut], shortened = within_limits(
        [short, long_body], max_title_chars=20, max_body_chars=100
    )
    assert kept is short and shortened == 1
    assert len(cut.body) <= 100 and cut.title == "عنوان"
