"""Admins' schedules for groups, forum topics and channels: /schedule, /schedules,
/unschedule, /preview, and picking a channel by forwarding one of its posts."""

from __future__ import annotations

import contextlib

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import CommandHandler, MessageHandler, filters

from bot import formatting
from bot.errors import (
    BadSchedule,
    BotCannotPost,
    NotChatAdmin,
    ScheduleNotFound,
    TooManySchedules,
    UnknownTopic,
)
from bot.i18n.catalogs import Texts
from bot.models import ChatRights, TargetChat
from bot.ptb.chat_rights import rights_in
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.subscriptions.rules import MIN_CRON_GAP, next_runs, parse_request

_CRON_RANGES = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12)}
_CRON_RANGES["weekday"] = (0, 7)


def bad_schedule_text(t: Texts, error: BadSchedule, context: AkhbarContext) -> str:
    """What is wrong with a time, a number of headlines or a cron expression."""
    settings = context.services.config.digests
    if error.problem.startswith("cron-") and error.problem != "cron-too-often":
        name = error.problem.removeprefix("cron-")
        low, high = _CRON_RANGES[name]
        field = t(f"cron-field-{name}", low=low, high=high)
        return formatting.text(t, "schedule-bad-cron-field", field=field, text=error.text[:60])
    key = {
        "time": "schedule-bad-time",
        "no-time": "schedule-no-time",
        "count": "schedule-bad-count",
        "cron": "schedule-bad-cron",
        "cron-too-often": "schedule-cron-too-often",
    }[error.problem]
    minutes = int(MIN_CRON_GAP.total_seconds() // 60)
    return formatting.text(
        t, key, text=error.text[:60], min=1, max=settings.max_count, minutes=minutes
    )


def _arguments(message: Message) -> str:
    return (message.text or "").partition(" ")[2]


def _title(t: Texts, target: TargetChat) -> str:
    return target.title or t("this-chat")


async def _target(update: Update, context: AkhbarContext, t: Texts, channel: str | None):
    """The chat a command is about: this group, a named channel, or (in a private chat) the
    channel picked last by name or by a forward. None after a reply saying why not."""
    chat = update.effective_chat
    if chat.type != ChatType.PRIVATE:
        if channel is not None:  # a group's commands act on the group: say so, drop nothing
            text = formatting.text(t, "schedule-channel-in-group", text=channel[:60])
            await update.effective_message.reply_html(text)
            return None
        return TargetChat(chat.id, chat.type, chat.title)
    if channel is not None:
        try:
            found = await context.bot.get_chat(channel)
        except (BadRequest, Forbidden):
            text = formatting.text(t, "schedule-channel-unknown", text=channel[:60])
            await update.effective_message.reply_html(text)
            return None
        return TargetChat(found.id, found.type, found.title)
    chosen = await context.services.schedules.chosen_channel(chat.id)
    target = None if chosen is None else await context.services.schedules.known_chat(chosen)
    if target is None:
        # A private chat has no schedules of its own to manage here (/digest is for those).
        await update.effective_message.reply_html(await _pick_a_channel(update, context, t))
    return target


async def _pick_a_channel(update: Update, context: AkhbarContext, t: Texts) -> str:
    """How to pick a channel from a private chat, with the channels the person schedules."""
    mine = await context.services.schedules.channels_of(update.effective_user.id)
    text = formatting.text(t, "schedule-usage-private")
    if mine:
        text += "\n" + formatting.text(t, "schedule-your-channels", channels=t.join(mine))
    return text


async def _remember_channel(
    update: Update, context: AkhbarContext, target: TargetChat, rights: ChatRights
) -> None:
    """A channel named from a private chat becomes the one plain commands there act on."""
    if update.effective_chat.type != ChatType.PRIVATE or target.type != ChatType.CHANNEL:
        return
    # Only a channel the person may schedule is worth remembering.
    with contextlib.suppress(NotChatAdmin, BotCannotPost):
        await context.services.schedules.choose_channel(
            update.effective_chat.id, target, rights=rights
        )


def _thread(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


async def schedule(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    message = update.effective_message
    text = _arguments(message)
    if not text.strip():
        await message.reply_html(formatting.text(t, "schedule-usage"))
        return
    max_count = context.services.config.digests.max_count
    try:
        request = parse_request(text, max_count=max_count)
    except BadSchedule as error:
        await message.reply_html(bad_schedule_text(t, error, context))
        return
    target = await _target(update, context, t, request.channel)
    if target is None:
        return
    if target.type == ChatType.PRIVATE:  # `/schedule @someone`: a person, not a channel
        await message.reply_html(formatting.text(t, "schedule-usage-private"))
        return
    await _create(update, context, t, target, request)


async def _create(update, context: AkhbarContext, t: Texts, target: TargetChat, request) -> None:
    message = update.effective_message
    rights = await rights_in(context, target, update.effective_user.id, message)
    try:
        created = await context.services.schedules.create(
            target, request, rights=rights, user_id=update.effective_user.id,
            thread_id=_thread(message) if update.effective_chat.id == target.chat_id else None,
            language=t.language,
        )  # fmt: skip
    except (NotChatAdmin, BotCannotPost, TooManySchedules) as error:
        await message.reply_html(_refusal(t, error, target, context))
        return
    except UnknownTopic as error:
        await message.reply_html(formatting.unknown_topic(t, error.word, error.known))
        return
    await _remember_channel(update, context, target, rights)
    tz = await context.services.digests.zone_of(target.chat_id)
    number = await context.services.schedules.number_of(created)
    upcoming = next_runs(created.rule, tz, after=context.services.clock())
    text = formatting.schedule_created(
        t, number, created, chat=_title(t, target),
        next_run=upcoming[0] if upcoming else None, tz=tz,
    )  # fmt: skip
    if target.chat_id != update.effective_chat.id:
        text += "\n" + formatting.text(t, "schedule-manage-from-here", chat=_title(t, target))
    await message.reply_html(text)


def _refusal(t: Texts, error: Exception, target: TargetChat, context: AkhbarContext) -> str:
    title = _title(t, target)
    if isinstance(error, NotChatAdmin):
        return formatting.text(t, "schedule-not-admin", chat=title)
    if isinstance(error, BotCannotPost):
        return formatting.text(t, "schedule-bot-cannot-post", chat=title)
    limit = context.services.config.digests.max_schedules_per_chat
    return formatting.text(
        t, "schedule-too-many", chat=title, schedules=t.plural("count-schedules", limit)
    )


def _channel_arg(context: AkhbarContext) -> str | None:
    return next((a for a in context.args or [] if a.startswith("@")), None)


async def list_schedules(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    target = await _target(update, context, t, _channel_arg(context))
    if target is None:
        return
    elsewhere = target.chat_id != update.effective_chat.id
    if elsewhere:
        rights = await rights_in(context, target, update.effective_user.id)
        if not rights.is_admin:
            # A group's members may see its schedules; another chat's are its admins' business.
            text = formatting.text(t, "schedule-not-admin", chat=_title(t, target))
            await update.effective_message.reply_html(text)
            return
        await _remember_channel(update, context, target, rights)
    found = await context.services.schedules.of_chat(target.chat_id)
    tz = await context.services.digests.zone_of(target.chat_id)
    now = context.services.clock()
    items = [(s, (next_runs(s.rule, tz, after=now) or [None])[0]) for s in found]
    text = formatting.schedule_list(t, _title(t, target), items, tz)
    await update.effective_message.reply_html(text)


async def unschedule(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    message = update.effective_message
    number = next((a for a in context.args or [] if a.isdecimal()), None)
    if number is None or len(number) > 4:
        await message.reply_html(formatting.text(t, "unschedule-usage"))
        return
    target = await _target(update, context, t, _channel_arg(context))
    if target is None:
        return
    rights = await rights_in(context, target, update.effective_user.id, message)
    try:
        await context.services.schedules.remove(target.chat_id, int(number), rights=rights)
    except NotChatAdmin as error:
        await message.reply_html(_refusal(t, error, target, context))
        return
    except ScheduleNotFound:
        text = formatting.text(t, "unschedule-not-found", chat=_title(t, target), number=number)
        await message.reply_html(text)
        return
    text = formatting.text(t, "unschedule-done", chat=_title(t, target), number=number)
    await message.reply_html(text)


async def preview(update: Update, context: AkhbarContext) -> None:
    """Every running schedule's next digest (or the one numbered), sent privately to the admin."""
    t = await context.texts(update)
    message = update.effective_message
    target = await _target(update, context, t, _channel_arg(context))
    if target is None:
        return
    rights = await rights_in(context, target, update.effective_user.id, message)
    if not rights.is_admin:
        await message.reply_html(_refusal(t, NotChatAdmin(), target, context))
        return
    wanted = _previewed(await context.services.schedules.of_chat(target.chat_id), context.args)
    if wanted is None:
        await message.reply_html(formatting.text(t, "preview-usage"))
        return
    try:
        for number, schedule in wanted:
            digest = await context.services.digests.preview(target.chat_id, schedule)
            for part in _preview_parts(t, _title(t, target), number, digest):
                await context.bot.send_message(update.effective_user.id, part)
    except Forbidden:
        await message.reply_html(formatting.text(t, "preview-start-private"))
        return
    if update.effective_chat.id != update.effective_user.id:
        await message.reply_html(formatting.text(t, "preview-sent", chat=_title(t, target)))


def _previewed(schedules, args: list[str] | None):
    """(number as /schedules shows it, schedule) pairs to preview: the one named, else every
    running one, else the chat's default digest (None). None when the number is unknown."""
    numbered = list(enumerate(schedules, start=1))
    number = next((a for a in args or [] if a.isdecimal()), None)
    if number is not None:
        chosen = [(n, s) for n, s in numbered if str(n) == number.lstrip("0")]
        return chosen or None
    return [(n, s) for n, s in numbered if not s.is_paused] or [(None, None)]


def _preview_parts(t: Texts, chat: str, number: int | None, digest) -> list[str]:
    """The private messages previewing one schedule's next digest: a heading, then the digest
    or a note that it would be empty."""
    suffix = "" if number is None else "-numbered"
    heading = formatting.text(t, f"preview-heading{suffix}", chat=chat, number=number)
    if digest is None or not digest.articles:
        return [f"{heading}\n{formatting.text(t, 'preview-empty-private')}"]
    return [heading, *digest.parts]


async def forwarded_post(update: Update, context: AkhbarContext) -> None:
    """A post forwarded from a channel picks that channel for the next /schedule."""
    t = await context.texts(update)
    message = update.effective_message
    origin = message.forward_origin
    channel = getattr(origin, "chat", None)
    if channel is None or channel.type != ChatType.CHANNEL:
        # Only a channel's post picks something; anything else was forwarded for some other
        # reason, and the bot reads no forwarded messages.
        await message.reply_html(formatting.text(t, "forward-not-a-channel-post"))
        return
    target = TargetChat(channel.id, channel.type, channel.title)
    rights = await rights_in(context, target, update.effective_user.id)
    try:
        await context.services.schedules.choose_channel(message.chat_id, target, rights=rights)
    except (NotChatAdmin, BotCannotPost) as error:
        await message.reply_html(_refusal(t, error, target, context))
        return
    await message.reply_html(formatting.text(t, "schedule-channel-chosen", chat=_title(t, target)))


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("schedule", schedule))
    app.add_handler(CommandHandler("schedules", list_schedules))
    app.add_handler(CommandHandler("unschedule", unschedule))
    app.add_handler(CommandHandler("preview", preview))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.FORWARDED, forwarded_post))
