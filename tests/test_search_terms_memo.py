"""The memoised, token-by-token term splitter equals normalising and splitting the whole text."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.reading import search_text


def reference_terms(text: str) -> list[str]:
    words = search_text._WORD.findall(search_text.normalise(text))
    return [search_text._stem(word) for word in words if search_text._is_significant(word)]


@settings(max_examples=400)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_terms_equal_whole_text_normalisation_for_any_text(text):
    assert search_text.terms(text) == reference_terms(text)


@given(st.lists(st.sampled_from(["كَتَبَ،", "الـكتاب", "İstanbul", "ᾳβ", "ﷺ", "½", "\u00a0", " "])))
def test_terms_equal_whole_text_normalisation_for_tricky_pieces(pieces):
    text = "".join(pieces)
    assert search_text.terms(text) == reference_terms(text)
