"""Reading `/autopost [@channel] [topics…] [+word -word] [style] [N/h] [HH:MM-HH:MM] [preview]`
and `/autopost off [n]`, in Arabic, French or English words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.errors import BadAutopost
from bot.models import AutopostStyle, KeywordFilters, QuietHours
from bot.subscriptions import keyword_filters

MAX_TOPICS = 10
MAX_TOPIC_LENGTH = 40
MAX_HOURLY_CAP = 120

_STYLES = {
    "headline": AutopostStyle.HEADLINE, "headlines": AutopostStyle.HEADLINE,
    "titre": AutopostStyle.HEADLINE, "titres": AutopostStyle.HEADLINE,
    "عنوان": AutopostStyle.HEADLINE, "عناوين": AutopostStyle.HEADLINE,
    "summary": AutopostStyle.SUMMARY, "résumé": AutopostStyle.SUMMARY,
    "resume": AutopostStyle.SUMMARY, "ملخص": AutopostStyle.SUMMARY,
    "photo": AutopostStyle.PHOTO, "image": AutopostStyle.PHOTO, "صورة": AutopostStyle.PHOTO,
}  # fmt: skip
_PREVIEW = frozenset({"preview", "aperçu", "apercu", "معاينة"})
# `/autopost on`: every topic with the defaults (`/autopost` alone lists the chat's rules).
_ON = frozenset({"on", "activer", "تفعيل", "تشغيل"})
_OFF = frozenset({"off", "stop", "arrêt", "arret", "إيقاف", "ايقاف", "توقف"})
_CAP = re.compile(r"^(\d{1,4})/(?:h|hour|heure|س|ساعة)$", re.IGNORECASE)
_QUIET = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


@dataclass(frozen=True, slots=True)
class AutopostRequest:
    """What an admin asked for; `off` removes rules (`number`, or all of the chat or topic)."""

    channel: str | None = None
    topics: tuple[str, ...] = ()
    filters: KeywordFilters = field(default_factory=KeywordFilters)
    style: AutopostStyle = AutopostStyle.HEADLINE
    hourly_cap: int | None = None
    quiet: QuietHours | None = None
    link_preview: bool = False
    off: bool = False
    number: int | None = None


def parse(text: str, *, max_cap: int = MAX_HOURLY_CAP) -> AutopostRequest:
    """Read the words after /autopost; raise BadAutopost naming the word that is wrong."""
    words = text.split()
    channel = next((w for w in words if w.startswith("@")), None)
    words = [w for w in words if not w.startswith("@")]
    if words and words[0].casefold() in _OFF:
        number = words[1] if len(words) > 1 else None
        if number is not None and not (number.isdecimal() and len(number) <= 4):
            raise BadAutopost("number", number)
        return AutopostRequest(channel=channel, off=True, number=int(number) if number else None)
    values: dict[str, object] = {}
    topics: list[str] = []
    filter_words: list[str] = []
    for word in words:
        folded = word.casefold()
        if word[:1] in "+-−":
            filter_words.append(word)
        elif folded in _STYLES:
            values["style"] = _STYLES[folded]
        elif folded in _ON:
            continue
        elif folded in _PREVIEW:
            values["link_preview"] = True
        elif cap := _CAP.match(word):
            values["hourly_cap"] = _cap(int(cap.group(1)), word, max_cap)
        elif quiet := _QUIET.match(word):
            values["quiet"] = _quiet(quiet, word)
        elif folded not in topics and len(topics) < MAX_TOPICS:
            topics.append(folded[:MAX_TOPIC_LENGTH])
    filters = keyword_filters.parse(filter_words, KeywordFilters())
    return AutopostRequest(channel=channel, topics=tuple(topics), filters=filters, **values)


def _cap(value: int, word: str, max_cap: int) -> int:
    if not 1 <= value <= max_cap:
        raise BadAutopost("cap", word)
    return value


def _quiet(match: re.Match[str], word: str) -> QuietHours:
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) == (h2, m2):
        raise BadAutopost("quiet", word)
    return QuietHours(h1 * 60 + m1, h2 * 60 + m2)
