"""Normalisation shared by the search index and search queries.

FTS5's unicode61 tokenizer splits Arabic words at every diacritic and at tatweel, and it
knows nothing of Arabic morphology, so text is normalised and stemmed here, in Python, by
one function used both when indexing and when querying.

Letter forms are folded and the definite article is taken off *before* stemming: the Snowball
stemmer strips different affixes from `الانتخابات` and `انتخابات` (or `ألمانيا` and `المانيا`),
so stemming first made a word with and without "ال" two different terms.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import chain, combinations

import Stemmer

from storage.article_search import TermQuery, fts5

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
# The definite article, alone or after a one-letter conjunction or preposition, and "لل"
# (لـ + ال). Only taken off words that keep at least two letters: `الا`, `الى` stay whole.
_ARTICLE = re.compile("^(?:[وفبك]?ال|لل)(?=..)")
# Words that carry no meaning of their own once separated: the article written apart and the
# one-letter particles (و، ب، ل…) people type with a space; searching them finds everything.
_PARTICLES = frozenset({"ال"})
_WORD = re.compile(r"\w+")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")
_arabic_stemmer = Stemmer.Stemmer("arabic")

MAX_QUERY_TERMS = 12
# Bump whenever `terms` changes what it returns for some text: the index of an existing
# database is then rebuilt at start-up (bot.reading.search_index), so old rows match new queries.
INDEX_VERSION = 2
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
        bare = _ARTICLE.sub("", word.translate(_LETTER_FORMS))
        return _arabic_stemmer.stemWord(bare).translate(_LETTER_FORMS)
    return _strip_accents(word)


def _is_significant(word: str) -> bool:
    return word not in _PARTICLES and not (len(word) == 1 and word.isalpha())


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


def forget_memo() -> None:
    """Empty the memo of token terms: after a bulk job (rebuilding the index) it holds up to
    _MEMO_SIZE tokens (~20 MB) that the serving bot would otherwise carry for good."""
    _token_terms.clear()


def _terms_of_token(token: str) -> tuple[str, ...]:
    words = _WORD.findall(_ARABIC_MARKS.sub("", token).casefold())
    return tuple(_stem(word) for word in words if _is_significant(word))


def index_text(text: str | None) -> str:
    """The text to store in the full-text index for `text`."""
    return " ".join(terms(text))


def search_query(text: str) -> TermQuery | None:
    """A query requiring every term of `text`, or None when nothing is searchable."""
    unique = tuple(dict.fromkeys(term for term in terms(text) if term))[:MAX_QUERY_TERMS]
    return TermQuery.every(unique) if unique else None


def fts_query(text: str) -> str | None:
    """The FTS5 MATCH expression of `search_query(text)`, or None."""
    query = search_query(text)
    return None if query is None else fts5(query)


# Words too common in headlines to make two of them related: grammar words in the three
# languages, compared as terms so every spelling of them is caught.
_STOP_WORDS = (
    "في من على إلى الى عن مع بعد قبل حول ضد خلال بين عند منذ حتى أن إن أو ثم لا ما لم لن هل"
    " قد كل بعض غير التي الذي الذين هذا هذه ذلك تلك هو هي هم كان كانت يكون عبر لدى أمام دون"
    " le la les de des du un une et en au aux pour par sur dans avec sans sous est qui que"
    " the of and in on for to with at by from is are as an its after over"
)
STOP_TERMS = frozenset(terms(_STOP_WORDS))
RELATED_MIN_SHARED = 2


def related_query(title: str) -> TermQuery | None:
    """A query matching text that shares at least two of the significant terms of `title`
    (its only one, if it has one), or None when it has none.

    One shared word is too weak a link: "الشرق" alone would relate every Middle East story.
    """
    unique = [t for t in dict.fromkeys(terms(title)) if t not in STOP_TERMS][:MAX_QUERY_TERMS]
    if len(unique) < RELATED_MIN_SHARED:
        return TermQuery.every((unique[0],)) if unique else None
    return TermQuery(tuple(combinations(unique, RELATED_MIN_SHARED)))


def title_fingerprint(title: str) -> str:
    """A key that makes the same headline written differently compare equal."""
    return " ".join(_WORD.findall(normalise(title).translate(_LETTER_FORMS)))
