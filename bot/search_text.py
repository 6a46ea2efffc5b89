"""Normalisation shared by the search index and search queries.

FTS5's unicode61 tokenizer splits Arabic words at every diacritic and at tatweel, and it
knows nothing of Arabic morphology, so text is normalised and stemmed here, in Python, by
one function used both when indexing and when querying.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

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


def normalise(text: str) -> str:
    """Fold case, compatibility forms, diacritics and tatweel; letter forms stay for the stemmer."""
    text = unicodedata.normalize("NFKC", text)
    return _ARABIC_MARKS.sub("", text).casefold()


@lru_cache(maxsize=65536)
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
    return [_stem(word) for word in _WORD.findall(normalise(text))]


def index_text(text: str | None) -> str:
    """The text to store in the full-text index for `text`."""
    return " ".join(terms(text))


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH expression requiring every query term, or None when nothing is searchable."""
    unique = list(dict.fromkeys(term for term in terms(text) if term))[:MAX_QUERY_TERMS]
    if not unique:
        return None
    return " ".join(f'"{term}"' for term in unique)


def title_fingerprint(title: str) -> str:
    """A key that makes the same headline written differently compare equal."""
    return " ".join(_WORD.findall(normalise(title).translate(_LETTER_FORMS)))
