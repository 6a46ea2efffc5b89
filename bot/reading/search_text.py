"""Normalisation shared by the search index and search queries.

FTS5's unicode61 tokenizer splits Arabic words at every diacritic and at tatweel, and it
knows nothing of Arabic morphology, so text is normalised and stemmed here, in Python, by
one function used both when indexing and when querying.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain

import Stemmer

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LETTER_FORMS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ک": "ك",
        "ی": "ي",
    }
)
_WORD = re.compile(r"\w+")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_arabic_stemmer = Stemmer.Stemmer("arabic")

MAX_QUERY_TERMS = 12
# Indexing reads every word of every article, so the terms of each whitespace-separated token
# are memoised in a plain dict read through map(dict.get), which costs a fraction of stripping
# marks, folding, splitting and stemming each word again. News vocabulary is Zipfian; the
# bound only guards against unbounded growth (and memory) and empties the memo when reached.
_MEMO_SIZE = 100_000
_token_terms: dict[str, tuple[str, ...]] = {}


def normalise(text: str) -> str:
    """Fold case, compatibility forms, diacritics and tatweel; letter forms stay for the stemmer."""
    text = unicodedata.normalize("NFKC", text)
    return _ARABIC_MARKS.sub("", text).casefold()


def _stem(word: str) -> str:
    if _ARABIC_LETTER.search(word):
        return _arabic_stemmer.stemWord(word).translate(_LETTER_FORMS)
    return _strip_accents(word)


def _strip_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def terms(text: str | None) -> list[str]:
    """Split text into normalised, stemmed search terms."""
    if not text:
        return []
    # Same result as splitting normalise(text) into words: compatibility folding can create
    # whitespace, so it runs first; mark removal and case folding are per character and
    # never create or remove whitespace, so they can run token by token.
    tokens = unicodedata.normalize("NFKC", text).split()
    found = list(map(_token_terms.get, tokens))
    if None in found:
        if len(_token_terms) > _MEMO_SIZE:
            _token_terms.clear()
        for index, token_terms in enumerate(found):
            if token_terms is None:
                token = tokens[index]
                found[index] = _token_terms[token] = _terms_of_token(token)
    return list(chain.from_iterable(found))


def _terms_of_token(token: str) -> tuple[str, ...]:
    return tuple(_stem(word) for word in _WORD.findall(_ARABIC_MARKS.sub("", token).casefold()))


def index_text(text: str | None) -> str:
    """The text to store in the full-text index for `text`."""
    return " ".join(terms(text))


def fts_query(text: str, *, any_term: bool = False) -> str | None:
    """An FTS5 MATCH expression requiring every query term (or, with `any_term`, at least one:
    bm25 then ranks articles sharing more and rarer terms first), or None when nothing is
    searchable."""
    unique = list(dict.fromkeys(term for term in terms(text) if term))[:MAX_QUERY_TERMS]
    if not unique:
        return None
    return (" OR " if any_term else " ").join(f'"{term}"' for term in unique)


def title_fingerprint(title: str) -> str:
    """A key that makes the same headline written differently compare equal."""
    return " ".join(_WORD.findall(normalise(title).translate(_LETTER_FORMS)))
