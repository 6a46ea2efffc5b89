"""Admins' auto-posting for channels, groups and forum topics: /autopost, /autopost off."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot import formatting
from bot.errors import (
    AutopostRuleNotFound,
    BadAutopost,
    BotCannotPost,
    NotChatAdmin,
    TooManyAutopostRules,
)
from bot.i18n.catalogs import Texts
from bot.models import AutopostStyle, TargetChat
from bot.ptb.chat_rights import rights_in
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.subscriptions.autopost_requests import AutopostRequest, parse
from handlers._keyboards import AUTOPOST_PREFIX
from handlers._replies import replace_message


def _title(t: Texts, target: TargetChat) -> str:
    return target.title or t("this-chat")


def _thread(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


async def _target(
    update: Update, context: AkhbarContext, t: Texts, channel: str | None
) -> TargetChat | None:
    """This group or channel; from a private chat, the channel named or picked by a forward.
    None after a reply saying why not."""
    chat = update.effective_chat
    message = update.effective_message
    if chat.type != ChatType.PRIVATE:
        return TargetChat(chat.id, chat.type, chat.title)
    if channel is not None:
        try:
            found = await context.bot.get_chat(channel)
        except (BadRequest, Forbidden):
            text = formatting.text(t, "schedule-channel-unknown", text=channel[:60])
            await message.reply_html(text)
            return None
        return TargetChat(found.id, found.type, found.title)
    chosen = await context.services.schedules.chosen_channel(chat.id)
    known = None if chosen is None else await context.services.schedules.known_chat(chosen)
    if known is None:
        await message.reply_html(formatting.text(t, "autopost-usage-private"))
    return known


async def autopost(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    message = update.effective_message
    arguments = (message.text or "").partition(" ")[2]
    settings = context.services.config.autopost
    try:
        request = parse(arguments, max_cap=settings.max_hourly_cap)
    except BadAutopost as error:
        key = {"cap": "autopost-bad-cap", "quiet": "autopost-bad-quiet"}.get(
            error.problem, "autopost-bad-number"
        )
        text = formatting.text(t, key, text=error.text[:40], max=settings.max_hourly_cap)
        await message.reply_html(text)
        return
    target = await _target(update, context, t, request.channel)
    if target is None:
        return
    if request.off:
        await _remove(update, context, t, target, request)
    elif not arguments.strip() or arguments.split() == [request.channel]:
        await _list(update, context, t, target)
    else:
        await _create(update, context, t, target, request)


async def _create(
    update: Update, context: AkhbarContext, t: Texts, target: TargetChat, request: AutopostRequest
) -> None:
    message = update.effective_message
    user_id = update.effective_user.id
    # getChatMember every time: admins change, and so do the bot's rights.
    rights = await rights_in(context, target, user_id, message)
    here = update.effective_chat.id == target.chat_id
    try:
        rule, number = await context.services.autopost.create(
            target, request, rights=rights, user_id=user_id,
            thread_id=_thread(message) if here else None, language=t.language,
        )  # fmt: skip
    except (NotChatAdmin, BotCannotPost, TooManyAutopostRules) as error:
        await message.reply_html(_refusal(t, error, target, context))
        return
    default_cap = context.services.config.autopost.default_hourly_cap
    text = formatting.autopost_created(
        t, number, rule, chat=_title(t, target), default_cap=default_cap
    )
    await message.reply_html(text)


async def _remove(
    update: Update, context: AkhbarContext, t: Texts, target: TargetChat, request: AutopostRequest
) -> None:
    message = update.effective_message
    rights = await rights_in(context, target, update.effective_user.id, message)
    here = update.effective_chat.id == target.chat_id
    try:
        removed = await context.services.autopost.remove(
            target.chat_id, number=request.number,
            thread_id=_thread(message) if here else None, rights=rights,
        )  # fmt: skip
    except NotChatAdmin as error:
        await message.reply_html(_refusal(t, error, target, context))
        return
    except AutopostRuleNotFound:
        text = formatting.text(
            t, "autopost-not-found", chat=_title(t, target), number=request.number
        )
        await message.reply_html(text)
        return
    key = "autopost-off-done" if removed else "autopost-none"
    await message.reply_html(formatting.text(t, key, chat=_title(t, target), count=len(removed)))


async def _list(update: Update, context: AkhbarContext, t: Texts, target: TargetChat) -> None:
    message = update.effective_message
    if target.chat_id != update.effective_chat.id:
        rights = await rights_in(context, target, update.effective_user.id)
        if not rights.is_admin:
            await message.reply_html(_refusal(t, NotChatAdmin(), target, context))
            return
    rules = await context.services.autopost.of_chat(target.chat_id)
    default_cap = context.services.config.autopost.default_hourly_cap
    listing = formatting.autopost_list(t, _title(t, target), rules, default_cap=default_cap)
    await message.reply_html(f"{listing}\n\n{formatting.text(t, 'autopost-usage')}")


def _refusal(t: Texts, error: Exception, target: TargetChat, context: AkhbarContext) -> str:
    title = _title(t, target)
    if isinstance(error, NotChatAdmin):
        return formatting.text(t, "schedule-not-admin", chat=title)
    if isinstance(error, BotCannotPost):
        return formatting.text(t, "schedule-bot-cannot-post", chat=title)
    limit = context.services.config.autopost.max_rules_per_chat
    return formatting.text(t, "autopost-too-many", chat=title, max=limit)


# The /settings button flow, for the channel an admin picked (by @name or a forwarded post).
CALLBACK_PREFIX = AUTOPOST_PREFIX
_STYLES = {style.value: style for style in AutopostStyle}


def _menu_markup(t: Texts, has_rules: bool) -> InlineKeyboardMarkup:
    styles = [
        InlineKeyboardButton(
            t(f"autopost-style-{style.value}"), callback_data=f"{CALLBACK_PREFIX}:a:{style.value}"
        )
        for style in AutopostStyle
    ]
    rows = [styles]
    if has_rules:
        rows.append(
            [InlineKeyboardButton(t("button-autopost-off"), callback_data=f"{CALLBACK_PREFIX}:x")]
        )
    return InlineKeyboardMarkup(rows)


async def _menu_text(context: AkhbarContext, t: Texts, target: TargetChat) -> tuple[str, bool]:
    rules = await context.services.autopost.of_chat(target.chat_id)
    default_cap = context.services.config.autopost.default_hourly_cap
    listing = formatting.autopost_list(t, _title(t, target), rules, default_cap=default_cap)
    return f"{listing}\n\n{formatting.text(t, 'autopost-menu-hint')}", bool(rules)


async def menu_button_pressed(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    t = await context.texts(update)
    _, action, *rest = query.data.split(":")
    user_id = update.effective_user.id
    chosen = await context.services.schedules.chosen_channel(update.effective_chat.id)
    target = None if chosen is None else await context.services.schedules.known_chat(chosen)
    if target is None:
        await replace_message(query, formatting.text(t, "autopost-usage-private"), None)
        return
    # getChatMember on every press: a button in an old message is no proof of rights today.
    rights = await rights_in(context, target, user_id)
    try:
        if action == "a" and rest and rest[0] in _STYLES:
            request = AutopostRequest(style=_STYLES[rest[0]])
            await context.services.autopost.create(
                target, request, rights=rights, user_id=user_id, thread_id=None,
                language=t.language,
            )  # fmt: skip
        elif action == "x":
            await context.services.autopost.remove(
                target.chat_id, number=None, thread_id=None, rights=rights
            )
        elif not rights.is_admin:
            raise NotChatAdmin()
    except (NotChatAdmin, BotCannotPost, TooManyAutopostRules) as error:
        await query.answer(_refusal(t, error, target, context), show_alert=True)
        return
    text, has_rules = await _menu_text(context, t, target)
    await replace_message(query, text, _menu_markup(t, has_rules))


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("autopost", autopost))
    app.add_handler(
        CallbackQueryHandler(
            menu_button_pressed, pattern=rf"^{CALLBACK_PREFIX}:(m|x|a:(headline|summary|photo))$"
        )
    )
