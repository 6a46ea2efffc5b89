"""Telegram HTML for every message the bot sends: escaping, layout and splitting.

This module alone builds HTML. Every stored or user-given value is escaped, and long texts are
split between whole paragraphs (then sentences, then words) so that each part stays within
Telegram's limits and is balanced HTML on its own.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, get_day_names, get_timezone_location
from babel.numbers import format_decimal

from bot.i18n import bidi
from bot.i18n.catalogs import Texts
from bot.models import (
    Article,
    AutopostRule,
    KeywordFilters,
    PauseReason,
    ReviewItem,
    Schedule,
    ScheduleRule,
    SettingsView,
    Source,
    SourceHealth,
)

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_TOPICS_LISTED = 20  # a refusal lists the most used topics, not hundreds of feed categories
_SENTENCE_END = re.compile(r"(?<=[.!?؟…])\s+")
_WHITESPACE = re.compile(r"\s+")


def escape(text: str) -> str:
    """Escape a plain value for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True, slots=True)
class Page:
    number: int  # 1-based
    count: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


@dataclass(frozen=True, slots=True)
class ArticleView:
    """An article laid out for Telegram: an optional photo, then text messages."""

    photo_url: str | None
    caption: str | None
    messages: tuple[str, ...]
    source_url: str | None


def text(t: Texts, key: str, /, **values: object) -> str:
    """A catalog text, escaped for HTML."""
    return escape(t(key, **values))


def help_text(t: Texts, intro_html: str, sections: Sequence[str]) -> str:
    """/help and /start: an introduction, then each section's commands under a bold title."""
    blocks = [intro_html]
    for section in sections:
        blocks.append(f"<b>{text(t, f'help-{section}-title')}</b>\n{text(t, f'help-{section}')}")
    blocks.append(text(t, "help-buttons"))
    return "\n\n".join(blocks)


def operator_alert(update_id: int | None, summary: str) -> str:
    """The note the operator's chat gets when a handler fails."""
    return f"⚠️ update {update_id}: <code>{escape(summary)}</code>"


LIST_TITLE = 100  # 20 headlines with their source lines stay well within one message
HEADER_TITLE = 1000


def shorten(title: str, limit: int) -> str:
    """The title cut to `limit` characters, with an ellipsis when cut."""
    return title if len(title) <= limit else title[: limit - 1] + "…"


def headline_list(
    t: Texts, title: str, articles: Sequence[Article], page: Page | None, tz: ZoneInfo
) -> str:
    """A numbered list of headlines, each with the id users give to /read; titles are
    shortened only when the whole list would not fit in one message."""
    html = _headline_list(t, title, articles, page, tz, title_limit=None)
    if telegram_length(html) <= MESSAGE_LIMIT:
        return html
    return _headline_list(t, title, articles, page, tz, title_limit=LIST_TITLE)


def _headline_list(
    t: Texts,
    title: str,
    articles: Sequence[Article],
    page: Page | None,
    tz: ZoneInfo,
    *,
    title_limit: int | None,
) -> str:
    lines = [f"<b>{escape(title)}</b>", ""]
    for article in articles:
        headline = article.title if title_limit is None else shorten(article.title, title_limit)
        lines.append(f"<b>{article.id}.</b> {escape(headline)}")
        source = escape(_source_and_date(t, article, tz))
        lines.append(f"<i>{source}</i> · {read_command(t, article.id)}")
    if page is not None and page.count > 1:
        lines += ["", text(t, "page-of", page=page.number, pages=page.count)]
    return "\n".join(lines)


def _source_and_date(t: Texts, article: Article, tz: ZoneInfo) -> str:
    if article.published_at is None:
        return t("read-source", source=article.source)
    return t("read-published", source=article.source, date=format_day(t, article.published_at, tz))


def format_day(t: Texts, moment: datetime, tz: ZoneInfo) -> str:
    """A date in the reader's language, in the configured time zone."""
    day = format_date(moment.astimezone(tz).date(), t.date_pattern, locale=t.locale)
    return t.digits(day)


def article_view(
    t: Texts, article: Article, tz: ZoneInfo, *, image_hidden: bool = False
) -> ArticleView:
    """Lay an article out as a photo with a caption and body messages within Telegram's limits.

    A hidden image is left out, with a note saying so where the photo would have been.
    """
    title = escape(shorten(article.title, HEADER_TITLE))
    header = f"<b>{title}</b>\n{escape(_source_and_date(t, article, tz))}"
    blocks = [escape_split(p, MESSAGE_LIMIT) for p in paragraphs(article.body)]
    body = [piece for block in blocks for piece in block]
    if not body:
        note = "read-headline-only-link" if article.url else "read-headline-only"
        body = [f"<i>{text(t, note, source=article.source)}</i>"]
    if article.image_url and image_hidden:
        body = [f"<i>{text(t, 'image-hidden-note')}</i>", *body]
    elif article.image_url:
        caption = header if telegram_length(header) <= CAPTION_LIMIT else _short_caption(article)
        return ArticleView(article.image_url, caption, tuple(pack(body)), article.url)
    return ArticleView(None, None, tuple(pack([header, *body])), article.url)


def _short_caption(article: Article) -> str:
    pieces = escape_split(article.title, CAPTION_LIMIT - len("<b></b>"))
    return f"<b>{pieces[0]}</b>"


def paragraphs(body: str | None) -> list[str]:
    """The non-empty paragraphs of a stored body."""
    if not body:
        return []
    return [p.strip() for p in body.split("\n\n") if p.strip()]


def pack(blocks: Iterable[str], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """Join balanced HTML blocks into as few messages as fit within `limit`."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{separator}{block}" if current else block
        if telegram_length(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        current = block
    if current:
        messages.append(current)
    return messages


def escape_split(plain: str, limit: int) -> list[str]:
    """Escape plain text into pieces within `limit`, cut between sentences, else words."""
    escaped = escape(plain)
    if telegram_length(escaped) <= limit:
        return [escaped]
    units = [u for s in _SENTENCE_END.split(plain) for u in _words_within(s, limit)]
    return pack((escape(u) for u in units), limit, separator=" ")


def _words_within(sentence: str, limit: int) -> list[str]:
    if telegram_length(escape(sentence)) <= limit:
        return [sentence]
    words = _WHITESPACE.split(sentence)
    return [piece for word in words for piece in _hard_cut(word, limit)]


def _hard_cut(word: str, limit: int) -> list[str]:
    # A single "word" longer than a message (a huge URL) is cut; `limit // 5` leaves room for
    # every character to grow into an entity such as &amp; when escaped.
    if telegram_length(escape(word)) <= limit:
        return [word]
    step = max(limit // 5, 1)
    return [word[i : i + step] for i in range(0, len(word), step)]


MAX_DIGEST_TITLE = 300


def read_link(bot_username: str, article_id: int) -> str:
    """The deep link that opens an article in the bot."""
    return f"https://t.me/{bot_username}?start=read_{article_id}"


def read_command(t: Texts, article_id: int) -> str:
    """`/read_<id>`, tappable, its slash kept beside it in right-to-left text."""
    return t.command(f"/read_{article_id}")


def _digest_line(t: Texts, number: int, article: Article, bot_username: str | None) -> str:
    title = shorten(article.title, MAX_DIGEST_TITLE)
    source = f" · <i>{escape(article.source)}</i>"
    if bot_username is None:
        return f"<b>{number}.</b> {escape(title)}{source} · {read_command(t, article.id)}"
    link = html.escape(read_link(bot_username, article.id))
    return f'<b>{number}.</b> <a href="{link}">{escape(title)}</a>{source}'


def digest_parts(
    t: Texts,
    articles: Sequence[Article],
    *,
    moment: datetime,
    tz: ZoneInfo,
    bot_username: str | None,
) -> list[str]:
    """A digest: a dated heading and numbered headlines that open in the bot, in parts of at
    most 4096 characters cut only between headlines."""
    heading = f"<b>{text(t, 'digest-heading', date=format_day(t, moment, tz))}</b>\n"
    lines = [_digest_line(t, n, a, bot_username) for n, a in enumerate(articles, start=1)]
    return pack([heading, *lines], separator="\n")


def digest_empty(t: Texts, *, moment: datetime, tz: ZoneInfo) -> str:
    """The short note a chat gets when there is no news (when configured to get one)."""
    heading = text(t, "digest-heading", date=format_day(t, moment, tz))
    return f"<b>{heading}</b>\n\n{text(t, 'digest-empty')}"


def instant_message(t: Texts, article: Article, *, tz: ZoneInfo, bot_username: str | None):
    """A breaking-news push: the headline, its source and date, and a way to open it."""
    header = f"⚡ <b>{escape(article.title[:MAX_DIGEST_TITLE])}</b>"
    source = f"<i>{escape(_source_and_date(t, article, tz))}</i>"
    if bot_username is None:
        return f"{header}\n{source}\n{t.layout(f'/read_{article.id}')}"
    link = html.escape(read_link(bot_username, article.id))
    return f'{header}\n{source}\n<a href="{link}">{text(t, "instant-read")}</a>'


def _listed(t: Texts, values: Sequence[str], empty_key: str) -> str:
    return t.join(values) if values else t(empty_key)


def topic_names(t: Texts, topics: Sequence[str], empty_key: str = "topics-all") -> str:
    """Topics by their names in the reader's language (`maroc` → المغرب), listed."""
    return _listed(t, [t.topic(topic) for topic in topics], empty_key)


def unknown_topic(t: Texts, word: str, known: Sequence[str]) -> str:
    """A word that names no topic, and the topics there are (the first few)."""
    shown = topic_names(t, known[:MAX_TOPICS_LISTED], "topics-none-known")
    if len(known) > MAX_TOPICS_LISTED:
        shown = f"{shown}…"
    return text(t, "topic-unknown", topic=word, topics=shown)


def schedule_when(t: Texts, rule: ScheduleRule) -> str:
    """When a rule fires, in words: `08:00، 19:30 (Mon, Tue)` in the reader's language; a cron
    expression too when it is only times on some weekdays, else as typed, kept left to right."""
    if rule.cron:
        simple = _cron_in_words(rule.cron)
        if simple is None:
            typed = f"cron {rule.cron}"
            return f"{bidi.LRM}{typed}{bidi.LRM}" if t.is_rtl else typed
        return _times_and_days(t, *simple)
    return _times_and_days(t, [m.strftime("%H:%M") for m in rule.times], rule.days)


def _times_and_days(t: Texts, times: Sequence[str], days: Sequence[int]) -> str:
    listed = t.digits(t.join(list(times)))
    if not days:
        return f"{listed} ({t('days-every')})"
    names = get_day_names("abbreviated", locale=t.locale)
    return f"{listed} ({t.join([names[day] for day in days])})"


_CRON_NUMBERS = re.compile(r"^\d{1,2}(,\d{1,2})*$")
_CRON_WEEKDAYS = re.compile(r"^[0-7](-[0-7])?(,[0-7](-[0-7])?)*$")
_MAX_TIMES_IN_WORDS = 6


def _cron_in_words(expression: str) -> tuple[list[str], list[int]] | None:
    """(times, weekdays Monday=0) of a crontab line that is only that: `30 19 * * 1-5`."""
    minute, hour, day, month, weekday = expression.split()
    if day != "*" or month != "*" or not _CRON_NUMBERS.match(minute + "," + hour):
        return None
    if weekday != "*" and not _CRON_WEEKDAYS.match(weekday):
        return None
    times = sorted(f"{int(h):02d}:{int(m):02d}" for h in hour.split(",") for m in minute.split(","))
    if len(times) > _MAX_TIMES_IN_WORDS:
        return None
    days: set[int] = set()
    for part in weekday.split(",") if weekday != "*" else []:
        first, _, last = part.partition("-")
        days.update((d - 1) % 7 for d in range(int(first), int(last or first) + 1))
    return times, sorted(days) if len(days) < 7 else []


def zone_name(t: Texts, zone: str) -> str:
    """A time zone as Arabic readers say it (`الدار البيضاء` for Africa/Casablanca); the IANA
    name, which people type, in French and English."""
    if not t.is_rtl:
        return zone
    try:
        return get_timezone_location(zone, locale=t.locale, return_city=True)
    except LookupError:
        return zone


def schedules_when(t: Texts, schedules: Sequence[Schedule]) -> str:
    """When several schedules fire, listed in the reader's punctuation; "none" without any."""
    return t.join([schedule_when(t, s.rule) for s in schedules]) or t("settings-none")


def next_run_text(t: Texts, moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    return f"{format_day(t, local, tz)} {t.digits(local.strftime('%H:%M'))}"


def schedule_created(
    t: Texts, number: int, schedule: Schedule, *, chat: str, next_run: datetime | None,
    tz: ZoneInfo,
) -> str:  # fmt: skip
    """The confirmation of a new schedule."""
    return text(
        t, "schedule-created", number=number, chat=chat, when=schedule_when(t, schedule.rule),
        topics=topic_names(t, schedule.topics),
        headlines=t.plural("count-headlines", schedule.item_count),
        next=next_run_text(t, next_run, tz),
    )  # fmt: skip


def schedule_list(
    t: Texts, chat: str, items: Sequence[tuple[Schedule, datetime | None]], tz: ZoneInfo
) -> str:
    """A chat's schedules, numbered as /unschedule takes them."""
    if not items:
        return text(t, "schedules-none", chat=chat)
    lines = [f"<b>{text(t, 'schedules-title', chat=chat)}</b>"]
    for number, (schedule, next_run) in enumerate(items, start=1):
        line = text(
            t, "schedules-line", number=number, when=schedule_when(t, schedule.rule),
            topics=topic_names(t, schedule.topics),
            headlines=t.plural("count-headlines", schedule.item_count),
            next=next_run_text(t, next_run, tz),
        )  # fmt: skip
        if schedule.is_paused:
            line = f"{line} <i>{text(t, 'schedules-paused')}</i>"
        if schedule.thread_id:
            line = f"{line} · #{schedule.thread_id}"
        lines.append(line)
    return "\n".join(lines)


def filters_summary(t: Texts, filters: KeywordFilters) -> str:
    """The chat's keyword filters, or how to set some."""
    if filters.is_empty:
        return text(t, "filter-none")
    return text(
        t, "filter-show",
        include=_listed(t, filters.include, "settings-none"),
        exclude=_listed(t, filters.exclude, "settings-none"),
    )  # fmt: skip


def settings_summary(
    t: Texts, view: SettingsView, *, language_name: str, next_run: datetime | None
) -> str:
    """/settings: subscription, topics, instant topics, digest times, zone, language, filters."""
    sub = view.subscription
    tz = ZoneInfo(view.timezone)
    when = schedules_when(t, view.schedules)
    filters = sub.filters if sub else KeywordFilters()
    words = [*(f"+{w}" for w in filters.include), *(f"-{w}" for w in filters.exclude)]
    return text(
        t, "settings-summary",
        subscribed=t("settings-yes") if sub else t("settings-no"),
        topics=topic_names(t, sub.topics if sub else ()),
        instant=topic_names(t, sub.instant_topics if sub else (), "settings-none-instant"),
        times=when, next=next_run_text(t, next_run, tz), zone=zone_name(t, view.timezone),
        language=language_name, filters=" ".join(words) or t("settings-none"),
    )  # fmt: skip


def review_list(t: Texts, items: Sequence[ReviewItem], threshold: int) -> str:
    """The moderators' queue: each image's number, weighted reports and state."""
    if not items:
        return text(t, "reports-empty")
    lines = [f"<b>{text(t, 'reports-title')}</b>", ""]
    for item in items:
        status = t("image-status-hidden" if item.image.is_hidden else "image-status-visible")
        line = t("reports-item", id=item.image.id, count=item.weight, status=status,
                 reports=t.plural("count-reports", threshold))  # fmt: skip
        lines.append(escape(line))
    return "\n".join(lines)


# Sources and statistics (operators)


def _short_time(moment: datetime | None, tz: ZoneInfo) -> str:
    return "—" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _source_state(t: Texts, source: Source) -> str:
    if source.paused_reason == PauseReason.GONE:
        return t("source-state-gone")
    return t("source-state-paused" if source.is_paused else "source-state-active")


def sources_page(
    t: Texts, items: Sequence[SourceHealth], page: Page, total: int, tz: ZoneInfo
) -> str:
    """One page of /sources: each source's state, last success, last error, rate, next poll."""
    if not items:
        return text(t, "sources-empty")
    title = text(t, "sources-title", count=total, page=page.number, pages=page.count)
    blocks = [f"<b>{title}</b>"]
    for item in items:
        s = item.source
        success = (
            t("source-last-success", when=_short_time(s.last_success_at, tz))
            if s.last_success_at
            else t("source-never")
        )
        lines = [f"<b>{escape(s.name)}</b> · {escape(_source_state(t, s))}", escape(success)]
        if s.error_kind:
            error = t(f"source-error-{s.error_kind}")
            lines.append("⚠️ " + text(t, "source-last-error", error=error))
        rate = format_decimal(round(item.articles_per_day, 1), format="0.#", locale=t.language)
        details = [t("source-rate", rate=rate)]
        if not s.is_paused:
            details.append(t("source-next-poll", when=_short_time(s.next_poll_at, tz)))
        lines.append(escape(" · ".join(details)))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def source_preview(
    t: Texts, source: Source, *, count: int, headlines: Sequence[str], discovered: bool
) -> str:
    """What /addsource found before it is saved."""
    topics = "، ".join(source.topics) if t.language == "ar" else ", ".join(source.topics)
    body = text(
        t, "addsource-preview", count=count, url=source.url, name=source.name,
        language=source.language, topics=topics or t("addsource-no-topics"),
    )  # fmt: skip
    lines = [body]
    if discovered:
        lines.append(f"<i>{text(t, 'addsource-discovered')}</i>")
    lines.extend(f"• {escape(title)}" for title in headlines)
    return "\n".join(lines)


def stats_summary(t: Texts, numbers: dict[str, int | str], outbox: dict[str, int]) -> str:
    """The /stats numbers, labelled in the operator's language."""
    lines = [f"<b>{text(t, 'stats-title')}</b>"]
    for name, value in numbers.items():
        key = "stats-newest-article" if name.startswith("newest") else f"stats-{_slug(name)}"
        label = t(key) if t.has(key) else name
        lines.append(f"{escape(label)}: <b>{escape(str(value))}</b>")
    lines.append(text(t, "stats-outbox", **outbox))
    return "\n".join(lines)


def _slug(name: str) -> str:
    return name.replace(" ", "-")


def hidden_image_fallback(caption_html: str | None, note: str) -> str:
    """The text re-sent when a photo message had to be deleted: its caption and the note."""
    escaped = escape(note)
    return f"{caption_html}\n\n{escaped}" if caption_html else escaped


# Auto-posting and inline sharing

AUTOPOST_TITLE = 300
SUMMARY_LENGTH = 300
MORE_NEWS_TITLE = 150
_NOT_IN_HASHTAG = re.compile(r"[^\w]+")


def hashtag(topic: str) -> str | None:
    """A hashtag Telegram links (letters, digits and underscores; not only digits), or None."""
    letters = "".join(c for c in topic if not unicodedata.category(c).startswith("M"))
    tag = _NOT_IN_HASHTAG.sub("_", letters.replace("ـ", "")).strip("_")
    if not tag or tag.replace("_", "").isdigit():
        return None
    return f"#{tag}"


def summary_of(body: str | None, limit: int = SUMMARY_LENGTH) -> str | None:
    """The first paragraph, cut at a word boundary within `limit` characters (plain text)."""
    first = next(iter(paragraphs(body)), None)
    if first is None or len(first) <= limit:
        return first
    cut = first[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,،;؛:") + "…"


def _read_anchor(t: Texts, key: str, article: Article, bot_username: str | None) -> str:
    if bot_username is None:
        return f"/read_{article.id}"
    link = html.escape(read_link(bot_username, article.id))
    return f'<a href="{link}">{text(t, key)}</a>'


def _source_and_time(t: Texts, article: Article, tz: ZoneInfo) -> str:
    moment = (article.published_at or article.fetched_at).astimezone(tz)
    return t("autopost-source-time", source=article.source, time=moment.strftime("%H:%M"))


def autopost_text(
    t: Texts,
    article: Article,
    *,
    with_summary: bool,
    tz: ZoneInfo,
    bot_username: str | None,
    hashtags: Sequence[str] = (),
) -> str:
    """An auto-post: the bold title, source and time, the summary when asked, a "read" link to
    the bot and the topics' hashtags; short enough to be a photo caption as well."""
    lines = [
        f"<b>{escape(shorten(article.title, AUTOPOST_TITLE))}</b>",
        f"<i>{escape(_source_and_time(t, article, tz))}</i>",
    ]
    summary = summary_of(article.body) if with_summary else None
    if summary:
        lines += ["", escape(summary)]
    lines += ["", _read_anchor(t, "autopost-read", article, bot_username)]
    tags = [tag for tag in (hashtag(topic) for topic in hashtags) if tag]
    if tags:
        lines.append(" ".join(dict.fromkeys(tags)))
    return "\n".join(lines)


def more_news(
    t: Texts, articles: Sequence[Article], *, shown: int, bot_username: str | None
) -> str:
    """The "more news" digest of held articles: the first `shown` headlines, then how many
    more are in /latest; one message."""
    lines = [f"<b>{text(t, 'autopost-more-heading')}</b>", ""]
    for number, article in enumerate(articles[:shown], start=1):
        title = escape(shorten(article.title, MORE_NEWS_TITLE))
        if bot_username is None:
            lines.append(f"{number}. {title} · /read_{article.id}")
        else:
            link = html.escape(read_link(bot_username, article.id))
            lines.append(f'{number}. <a href="{link}">{title}</a>')
    rest = len(articles) - shown
    if rest > 0:
        lines += ["", text(t, "autopost-more-rest", count=rest)]
    return "\n".join(lines)


def share_text(t: Texts, article: Article, *, tz: ZoneInfo, bot_username: str | None) -> str:
    """What an inline share sends into a chat: the headline, its source and date, and a
    "read in the bot" link."""
    return "\n".join(
        [
            f"<b>{escape(shorten(article.title, AUTOPOST_TITLE))}</b>",
            f"<i>{escape(_source_and_date(t, article, tz))}</i>",
            "",
            _read_anchor(t, "inline-read-in-bot", article, bot_username),
        ]
    )


def share_description(t: Texts, article: Article, tz: ZoneInfo) -> str:
    """The grey line under an inline result's title (plain text: Telegram shows it as is)."""
    return _source_and_date(t, article, tz)


def _clock_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def autopost_rule_summary(t: Texts, rule: AutopostRule, *, default_cap: int) -> str:
    """A rule in one line of plain words: topics, filters, style, pace, quiet hours, previews."""
    pieces = [
        _listed(t, rule.topics, "topics-all"),
        t(f"autopost-style-{rule.style.value}"),
        t("autopost-pace", count=rule.hourly_cap or default_cap),
    ]
    if not rule.filters.is_empty:
        words = [f"+{w}" for w in rule.filters.include] + [f"-{w}" for w in rule.filters.exclude]
        pieces.append(" ".join(words))
    if rule.quiet is not None:
        pieces.append(
            t(
                "autopost-quiet",
                start=_clock_time(rule.quiet.start),
                end=_clock_time(rule.quiet.end),
            )
        )
    if rule.link_preview:
        pieces.append(t("autopost-with-preview"))
    return " · ".join(pieces)


def autopost_created(
    t: Texts, number: int, rule: AutopostRule, *, chat: str, default_cap: int
) -> str:
    """The confirmation of a new auto-posting rule."""
    summary = autopost_rule_summary(t, rule, default_cap=default_cap)
    return text(t, "autopost-created", number=number, chat=chat, rule=summary)


def autopost_list(t: Texts, chat: str, rules: Sequence[AutopostRule], *, default_cap: int) -> str:
    """A chat's auto-posting rules, numbered as `/autopost off <n>` takes them."""
    if not rules:
        return text(t, "autopost-none", chat=chat)
    lines = [f"<b>{text(t, 'autopost-title', chat=chat)}</b>"]
    for number, rule in enumerate(rules, start=1):
        summary = escape(autopost_rule_summary(t, rule, default_cap=default_cap))
        line = f"{number}. {summary}"
        if rule.is_paused:
            line = f"{line} <i>{text(t, 'schedules-paused')}</i>"
        if rule.thread_id:
            line = f"{line} · #{rule.thread_id}"
        lines.append(line)
    return "\n".join(lines)


def most_shared(t: Texts, items: Sequence[tuple[Article, int]], tz: ZoneInfo) -> str:
    """Today's most shared articles with their share counts."""
    if not items:
        return text(t, "shared-none")
    lines = [f"<b>{text(t, 'shared-title')}</b>", ""]
    for article, count in items:
        title = escape(shorten(article.title, LIST_TITLE))
        lines.append(f"<b>{article.id}.</b> {title}")
        shares = text(t, "shared-count", count=count)
        lines.append(
            f"<i>{escape(_source_and_date(t, article, tz))} · {shares}</i> · /read_{article.id}"
        )
    return "\n".join(lines)
