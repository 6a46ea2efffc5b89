"""Topics: which exist, and which one a reader means by what they type.

A topic is stored as its id (`maroc`, or a feed's own category). Readers see it under its
name in their language (the catalog message `topic-<id>`) and may type that name in any
language, or a common form of it (`المغرب`, `مغرب`, `Maroc`, `morocco`): both sides go
through search's Arabic normalisation and stemming, so the article and vowel marks do not
matter. A word that names no known topic is refused instead of becoming a topic that no
article will ever carry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.errors import UnknownTopic
from bot.i18n.catalogs import Catalogs
from bot.reading import search_text
from storage import articles, sources
from storage.connection import Connection

# Every stored topic is read to resolve a word; feeds' categories stay in the hundreds.
MAX_TOPICS = 5000
MAX_TOPIC_LENGTH = 60


def topic_key(text: str) -> str:
    """What two spellings of one topic have in common (search's terms, joined)."""
    return " ".join(search_text.terms(text[:MAX_TOPIC_LENGTH]))


@dataclass(frozen=True, slots=True)
class TopicPage:
    """One page of a topic keyboard: its topics, its 1-based number and how many pages."""

    topics: tuple[str, ...]
    number: int
    count: int


def page_of_topics(
    topics: Sequence[str], *, size: int, number: int = 1, containing: str | None = None
) -> TopicPage:
    """The `number`th page of `size` topics (or the page holding `containing`)."""
    count = max((len(topics) + size - 1) // size, 1)
    if containing is not None and containing in topics:
        number = topics.index(containing) // size + 1
    number = min(max(number, 1), count)
    start = (number - 1) * size
    return TopicPage(tuple(topics[start : start + size]), number, count)


class Topics:
    """The known topics (stored articles' and configured sources'), and what names them."""

    def __init__(self, db: Connection, *, catalogs: Catalogs, configured: Iterable[str]) -> None:
        self._db = db
        self._catalogs = catalogs
        self._configured = tuple(dict.fromkeys(configured))
        self._keys_of: dict[str, frozenset[str]] = {}

    async def known(self) -> list[str]:
        """Every known topic id, the most used first, then those of the sources (configured or
        added by operators) without articles yet."""
        stored = [topic for topic, _ in await articles.topics(self._db, limit=MAX_TOPICS)]
        polled = [
            topic for source in await sources.all_sources(self._db) for topic in source.topics
        ]
        return list(dict.fromkeys([*stored, *self._configured, *polled]))

    async def resolve(self, word: str) -> str:
        """The id of the topic `word` names; raise UnknownTopic (with the known ones)."""
        known = await self.known()
        found = self._match(word, known)
        if found is None:
            raise UnknownTopic(word[:MAX_TOPIC_LENGTH], tuple(known))
        return found

    async def resolve_all(self, words: Sequence[str]) -> tuple[str, ...]:
        """The ids the words name, without repeats; raise UnknownTopic at the first unknown."""
        if not words:
            return ()
        known = await self.known()
        found = []
        for word in words:
            topic = self._match(word, known)
            if topic is None:
                raise UnknownTopic(word[:MAX_TOPIC_LENGTH], tuple(known))
            found.append(topic)
        return tuple(dict.fromkeys(found))

    def _match(self, word: str, known: list[str]) -> str | None:
        folded = word.strip().casefold()
        by_id = {topic.casefold(): topic for topic in known}
        if folded in by_id:
            return by_id[folded]
        key = topic_key(word)
        if not key:
            return None
        return next((topic for topic in known if key in self._keys(topic)), None)

    def _keys(self, topic: str) -> frozenset[str]:
        if topic not in self._keys_of:
            if len(self._keys_of) > MAX_TOPICS:
                self._keys_of.clear()
            names = [topic]
            for t in self._catalogs.all_texts:
                names += [t.topic(topic), *t.topic_aliases(topic)]
            self._keys_of[topic] = frozenset(topic_key(name) for name in names) - {""}
        return self._keys_of[topic]
