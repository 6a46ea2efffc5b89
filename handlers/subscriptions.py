"""Subscribers: /subscribe, /unsubscribe, /topics, /digest, /timezone, /settings, /filter."""

from __future__ import annotations

from contextlib import suppress

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.errors import BadSchedule, NotSubscribed, UnknownTimeZone, UnknownTopic
from bot.formatting import Page
from bot.i18n.catalogs import LANGUAGE_NAMES, Texts
from bot.models import Schedule
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.subscriptions import keyword_filters
from bot.subscriptions.rules import next_runs
from handlers._keyboards import autopost_menu_button, fits_callback, page_buttons
from handlers._replies import replace_message
from handlers.schedules import bad_schedule_text

# Callback data: "u1:<action>[:<topic>]". Bump the version when the layout changes, so old
# buttons fall through to the stale-button answer.
PREFIX = "u1"
ACTIONS = frozenset({"t", "i", "k", "p", "f", "fc", "s", "x"})


def callback(action: str, topic: str = "") -> str:
    return f"{PREFIX}:{action}:{topic}"


def parse_callback(data: str) -> tuple[str, str] | None:
    """(action, topic) from this area's callback data, or None when it is not ours."""
    prefix, _, rest = data.partition(":")
    action, _, topic = rest.partition(":")
    if prefix != PREFIX or action not in ACTIONS:
        return None
    return action, topic


def _private(update: Update) -> bool:
    return update.effective_chat.type == ChatType.PRIVATE


async def _reply(update: Update, html: str, markup: InlineKeyboardMarkup | None = None) -> None:
    await update.effective_message.reply_html(html, reply_markup=markup)


def _times(schedules: tuple[Schedule, ...] | list[Schedule], t: Texts) -> str:
    return formatting.schedules_when(t, schedules)


async def _private_only(update: Update, t: Texts) -> bool:
    if _private(update):
        return True
    await _reply(update, formatting.text(t, "private-only"))
    return False


async def subscribe(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    if not await _private_only(update, t):
        return
    chat_id = update.effective_chat.id
    before = await context.services.subscriptions.subscription(chat_id)
    try:
        change = await context.services.subscriptions.subscribe(
            chat_id, context.args or [], language=t.language
        )
    except UnknownTopic as error:
        await _reply(update, formatting.unknown_topic(t, error.word, error.known))
        return
    view = await context.services.subscriptions.settings(chat_id)
    topics = formatting.topic_names(t, view.subscription.topics)
    added = (
        [] if before is None else [x for x in view.subscription.topics if x not in before.topics]
    )
    if change.schedule:
        key = "subscribe-done"
    else:  # already subscribed: say what this /subscribe changed, if anything
        key = "subscribe-topics-added" if added else "subscribe-again"
    times = _times(view.schedules, t)
    zone = formatting.zone_name(t, view.timezone)
    text = formatting.text(
        t, key, topics=topics, times=times, zone=zone, added=formatting.topic_names(t, added)
    )
    await _reply(update, text)


async def unsubscribe(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    if not await _private_only(update, t):
        return
    try:
        await context.services.subscriptions.unsubscribe(update.effective_chat.id)
    except NotSubscribed:
        await _reply(update, formatting.text(t, "unsubscribe-not"))
        return
    await _reply(update, formatting.text(t, "unsubscribe-done"))


async def _topics_view(
    context: AkhbarContext, t: Texts, chat_id: int, *, page: int = 1, containing: str | None = None
):
    service = context.services.subscriptions
    subscription = await service.subscription(chat_id)
    shown = await service.topics_page(chat_id, number=page, containing=containing)
    if not shown.topics:
        return formatting.text(t, "topics-none"), None
    rows = []
    for topic in shown.topics:
        follow, instant = callback("t", topic), callback("i", topic)
        if not (fits_callback(follow) and fits_callback(instant)):
            continue  # a topic name too long for Telegram's 64 bytes gets no button
        mark = "✅" if topic in subscription.topics else "▫️"
        bolt = "⚡" if topic in subscription.instant_topics else "·"
        rows.append(
            [
                InlineKeyboardButton(f"{mark} {t.topic(topic)}", callback_data=follow),
                InlineKeyboardButton(bolt, callback_data=instant),
            ]
        )
    paging = page_buttons(t, Page(shown.number, shown.count), lambda n: callback("p", str(n)))
    if paging:
        rows.append(paging)
    return formatting.text(t, "topics-title"), InlineKeyboardMarkup(rows)


async def topics(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    if not await _private_only(update, t):
        return
    chat_id = update.effective_chat.id
    if await context.services.subscriptions.subscription(chat_id) is None:
        await _reply(update, formatting.text(t, "not-subscribed"))
        return
    text, markup = await _topics_view(context, t, chat_id)
    await _reply(update, text, markup)


async def digest_times(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    if not await _private_only(update, t):
        return
    if not context.args:
        await _reply(update, formatting.text(t, "digest-usage"))
        return
    chat_id = update.effective_chat.id
    try:
        change = await context.services.subscriptions.set_digest_times(chat_id, context.args)
    except NotSubscribed:
        await _reply(update, formatting.text(t, "not-subscribed"))
        return
    except BadSchedule as error:
        await _reply(update, bad_schedule_text(t, error, context))
        return
    tz = await context.services.digests.zone_of(chat_id)
    upcoming = next_runs(change.schedule.rule, tz, after=context.services.clock())
    text = formatting.text(
        t,
        "digest-set",
        times=formatting.schedule_when(t, change.schedule.rule),
        zone=formatting.zone_name(t, str(tz.key)),
        next=formatting.next_run_text(t, upcoming[0] if upcoming else None, tz),
    )
    await _reply(update, text)


async def timezone(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    chat = update.effective_chat
    if not await _private_only(update, t):
        return
    if not context.args:
        view = await context.services.subscriptions.settings(chat.id)
        await _reply(
            update,
            formatting.text(t, "timezone-usage", zone=formatting.zone_name(t, view.timezone)),
        )
        return
    try:
        zone = await context.services.subscriptions.set_timezone(chat.id, context.args[0])
    except UnknownTimeZone:
        await _reply(update, formatting.text(t, "timezone-unknown", text=context.args[0][:60]))
        return
    await _reply(update, formatting.text(t, "timezone-set", zone=formatting.zone_name(t, zone)))


async def _settings_view(context: AkhbarContext, t: Texts, chat_id: int):
    view = await context.services.subscriptions.settings(chat_id)
    tz = await context.services.digests.zone_of(chat_id)
    now = context.services.clock()
    upcoming = sorted(r for s in view.schedules for r in next_runs(s.rule, tz, after=now))
    text = formatting.settings_summary(
        t,
        view,
        language_name=LANGUAGE_NAMES.get(view.language, view.language),
        next_run=upcoming[0] if upcoming else None,
    )
    if view.subscription is None:
        buttons = [[InlineKeyboardButton(t("button-subscribe"), callback_data=callback("s"))]]
    else:
        buttons = [
            [
                InlineKeyboardButton(t("button-topics"), callback_data=callback("k")),
                InlineKeyboardButton(t("button-filters"), callback_data=callback("f")),
            ],
            [InlineKeyboardButton(t("button-unsubscribe"), callback_data=callback("x"))],
        ]
    buttons.append([autopost_menu_button(t)])
    return text, InlineKeyboardMarkup(buttons)


async def settings(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    if not await _private_only(update, t):
        return
    text, markup = await _settings_view(context, t, update.effective_chat.id)
    await _reply(update, text, markup)


def _filters_markup(t: Texts, has_filters: bool) -> InlineKeyboardMarkup | None:
    if not has_filters:
        return None
    button = InlineKeyboardButton(t("button-clear-filters"), callback_data=callback("fc"))
    return InlineKeyboardMarkup([[button]])


async def filter_words(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    if not await _private_only(update, t):
        return
    chat_id = update.effective_chat.id
    service = context.services.subscriptions
    subscription = await service.subscription(chat_id)
    if subscription is None:
        await _reply(update, formatting.text(t, "not-subscribed"))
        return
    filters = subscription.filters
    if empty := keyword_filters.unusable(context.args or []):
        # A lone `+` or `-` changes nothing: showing the filters again would look like success.
        text = formatting.text(t, "filter-empty-word", text=empty[0][:60])
        await _reply(update, text)
        return
    if context.args:
        filters = await service.update_filters(chat_id, context.args)
    markup = _filters_markup(t, not filters.is_empty)
    await _reply(update, formatting.filters_summary(t, filters), markup)


async def button(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    action, topic = parse_callback(query.data)
    t = await context.texts(update)
    chat_id = update.effective_chat.id
    service = context.services.subscriptions
    if action == "s":
        await service.subscribe(chat_id, [], language=t.language)
    elif action == "x":
        with suppress(NotSubscribed):
            await service.unsubscribe(chat_id)
    elif action == "fc":
        await service.clear_filters(chat_id)
        await replace_message(query, formatting.text(t, "filter-cleared"), None)
        return
    elif await service.subscription(chat_id) is None:
        await query.answer(t("not-subscribed"), show_alert=True)
        return
    if action in ("t", "i"):
        with suppress(UnknownTopic):  # a forged or outdated button: the keyboard is redrawn
            await service.toggle_topic(chat_id, topic, instant=action == "i")
    if action in ("t", "i", "k", "p"):
        if action == "p":
            page = int(topic) if topic.isdecimal() and len(topic) < 6 else 1
            text, markup = await _topics_view(context, t, chat_id, page=page)
        else:
            text, markup = await _topics_view(context, t, chat_id, containing=topic or None)
    elif action == "f":
        filters = (await service.subscription(chat_id)).filters
        text = formatting.filters_summary(t, filters)
        markup = _filters_markup(t, not filters.is_empty)
    else:
        text, markup = await _settings_view(context, t, chat_id)
    await replace_message(query, text, markup)


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("subscribe", subscribe))
    app.add_handler(CommandHandler("unsubscribe", unsubscribe))
    app.add_handler(CommandHandler("topics", topics))
    app.add_handler(CommandHandler("digest", digest_times))
    app.add_handler(CommandHandler("timezone", timezone))
    app.add_handler(CommandHandler("settings", settings))
    app.add_handler(CommandHandler("filter", filter_words))
    app.add_handler(
        CallbackQueryHandler(button, pattern=lambda data: parse_callback(data) is not None)
    )
