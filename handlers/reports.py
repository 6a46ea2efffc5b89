"""Image reports: the "report image" button, /report in groups, and the moderators' commands."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, PhotoSize, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot import formatting
from bot.errors import AkhbarError, BadThreshold, ImageNotFound, NotModerator, ThresholdTooLow
from bot.i18n.catalogs import Texts
from bot.moderation.image_identity import perceptual_hash
from bot.moderation.service import ReportOutcome, ReportStatus
from bot.ptb.chat_rights import is_group_admin
from bot.ptb.context import AkhbarApp, AkhbarContext

log = logging.getLogger(__name__)

REPORT_BUTTON = r"^x1:(\d{1,12})$"
HASHED_PHOTO_MIN_WIDTH = 256  # enough detail for a stable perceptual hash, small to download
_ANSWERS = {
    ReportStatus.COUNTED: "report-thanks",
    ReportStatus.ALREADY_REPORTED: "report-already",
    ReportStatus.RATE_LIMITED: "report-rate-limited",
    ReportStatus.ALREADY_HIDDEN: "report-already-hidden",
    ReportStatus.IGNORED_REPORTER: "report-thanks",  # not counted, and not told so
    ReportStatus.UNKNOWN_IMAGE: "report-unknown",
}


def answer_key(outcome: ReportOutcome) -> str:
    return "report-hidden-now" if outcome.just_hidden else _ANSWERS[outcome.status]


async def _reporter_is_admin(update: Update, context: AkhbarContext) -> bool:
    chat, user = update.effective_chat, update.effective_user
    return await is_group_admin(context, chat.id, chat.type, user.id)


async def _hide_everywhere(context: AkhbarContext, image_id: int) -> None:
    """Queue the edits of every message the bot sent with this image, then wake delivery."""
    queued = await context.services.image_hiding.queue_edits(image_id)
    context.wake_delivery()
    log.info("image %s hidden: %s sent messages to change", image_id, queued)


async def report_button(update: Update, context: AkhbarContext) -> None:
    query = update.callback_query
    t = await context.texts(update)
    outcome = await context.services.moderation.report(
        int(context.matches[0].group(1)),
        reporter_id=update.effective_user.id,
        chat_id=update.effective_chat.id,
        is_admin=await _reporter_is_admin(update, context),
    )
    await query.answer(t(answer_key(outcome)), show_alert=True)
    if outcome.just_hidden:
        await _hide_everywhere(context, outcome.image_id)


def _size_to_hash(sizes: tuple[PhotoSize, ...]) -> PhotoSize:
    wide = [s for s in sizes if s.width >= HASHED_PHOTO_MIN_WIDTH]
    return min(wide, key=lambda s: s.width) if wide else max(sizes, key=lambda s: s.width)


async def _photo_hash(message: Message) -> int | None:
    """The perceptual hash of a user's photo, or None when it cannot be read."""
    size = _size_to_hash(message.photo)
    try:
        data = bytes(await (await size.get_file()).download_as_bytearray())
        return await asyncio.to_thread(perceptual_hash, data)
    except (TelegramError, AkhbarError) as error:
        log.warning("photo %s not hashed: %s", size.file_unique_id, error)
        return None


async def _register_photo(context: AkhbarContext, message: Message, phash: int | None) -> int:
    """The image a user's photo shows, hashed so re-uploads of a hidden image are known."""
    return await context.services.moderation.register_telegram_photo(
        [s.file_unique_id for s in message.photo], phash=phash, file_id=message.photo[-1].file_id
    )


async def _tell_reporter(update: Update, context: AkhbarContext, text: str) -> None:
    """Privately when the reporter has a chat with the bot, else as a reply in the group."""
    try:
        await context.bot.send_message(update.effective_user.id, text)
    except (Forbidden, BadRequest):
        await update.effective_message.reply_html(text)


async def _remove_group_photo(context: AkhbarContext, t: Texts, photo: Message) -> None:
    """Delete a hidden user photo when allowed (and within 48 h), else tell the group's admins."""
    try:
        await context.bot.delete_message(photo.chat_id, photo.message_id)
    except (BadRequest, Forbidden):
        await context.bot.send_message(
            photo.chat_id, formatting.text(t, "group-photo-admins"),
            reply_to_message_id=photo.message_id,
        )  # fmt: skip
        return
    await context.bot.send_message(photo.chat_id, formatting.text(t, "group-photo-removed"))


async def report_command(update: Update, context: AkhbarContext) -> None:
    t = await context.texts(update)
    target = update.effective_message.reply_to_message
    if target is None:
        await update.effective_message.reply_html(formatting.text(t, "report-usage"))
        return
    if not target.photo:
        await update.effective_message.reply_html(formatting.text(t, "report-no-image"))
        return
    image_id = await _register_photo(context, target, await _photo_hash(target))
    outcome = await context.services.moderation.report(
        image_id,
        reporter_id=update.effective_user.id,
        chat_id=update.effective_chat.id,
        is_admin=await _reporter_is_admin(update, context),
    )
    await _tell_reporter(update, context, formatting.text(t, answer_key(outcome)))
    if outcome.just_hidden or outcome.status == ReportStatus.ALREADY_HIDDEN:
        await _remove_group_photo(context, t, target)
    if outcome.just_hidden:
        await _hide_everywhere(context, image_id)


async def group_photo(update: Update, context: AkhbarContext) -> None:
    """A photo posted in a group: a copy of a hidden image is removed as soon as it appears."""
    message = update.effective_message
    phash = await _photo_hash(message)
    keys = [size.file_unique_id for size in message.photo]
    moderation = context.services.moderation
    if not await moderation.is_known_or_copy_of_hidden(keys, phash=phash):
        return
    image_id = await _register_photo(context, message, phash)
    if await moderation.is_hidden(image_id):
        await _remove_group_photo(context, await context.texts(update), message)


async def _as_moderator(update: Update, context: AkhbarContext) -> tuple[Texts, bool] | None:
    """The texts and whether the person administers this chat; None (and a polite no) for
    someone who is neither an operator nor an admin here."""
    t = await context.texts(update)
    is_admin = await _reporter_is_admin(update, context)
    moderation = context.services.moderation
    if not moderation.may_moderate(update.effective_user.id, is_chat_admin=is_admin):
        await update.effective_message.reply_html(formatting.text(t, "moderation-forbidden"))
        return None
    return t, is_admin


async def review(update: Update, context: AkhbarContext) -> None:
    if (checked := await _as_moderator(update, context)) is None:
        return
    t, _ = checked
    items = await context.services.moderation.review_queue(limit=20)
    threshold = context.services.config.moderation.threshold
    await update.effective_message.reply_html(formatting.review_list(t, items, threshold))


def _number_argument(context: AkhbarContext) -> int | None:
    args = context.args or []
    return int(args[0]) if args and args[0].isdecimal() and len(args[0]) <= 15 else None


async def unhide(update: Update, context: AkhbarContext) -> None:
    if (checked := await _as_moderator(update, context)) is None:
        return
    t, is_admin = checked
    image_id = _number_argument(context)
    if image_id is None:
        await update.effective_message.reply_html(formatting.text(t, "unhide-usage"))
        return
    try:
        restored = await context.services.moderation.unhide(
            image_id, actor_id=update.effective_user.id, is_chat_admin=is_admin
        )
    except ImageNotFound:
        await update.effective_message.reply_html(formatting.text(t, "unhide-unknown", id=image_id))
        return
    key = "unhide-done" if restored else "unhide-not-hidden"
    await update.effective_message.reply_html(formatting.text(t, key, id=image_id))


async def ignore_reports(update: Update, context: AkhbarContext) -> None:
    if (checked := await _as_moderator(update, context)) is None:
        return
    t, is_admin = checked
    user_id = _number_argument(context)
    if user_id is None:
        await update.effective_message.reply_html(formatting.text(t, "ignore-usage"))
        return
    await context.services.moderation.ignore_reporter(
        user_id, actor_id=update.effective_user.id, is_chat_admin=is_admin
    )
    await update.effective_message.reply_html(formatting.text(t, "ignore-done", user=user_id))


async def report_threshold(update: Update, context: AkhbarContext) -> None:
    if (checked := await _as_moderator(update, context)) is None:
        return
    t, is_admin = checked
    count = _number_argument(context)
    if count is None:
        await update.effective_message.reply_html(formatting.text(t, "threshold-usage"))
        return
    try:
        await context.services.moderation.set_chat_threshold(
            update.effective_chat.id, count, actor_id=update.effective_user.id,
            is_chat_admin=is_admin,
        )  # fmt: skip
    except ThresholdTooLow as error:
        text = formatting.text(
            t, "threshold-too-low", reports=t.plural("count-reports", error.floor)
        )
    except (BadThreshold, NotModerator):
        text = formatting.text(t, "threshold-usage")
    else:
        text = formatting.text(t, "threshold-set", reports=t.plural("count-reports", count))
    await update.effective_message.reply_html(text)


def register(app: AkhbarApp) -> None:
    app.add_handler(CallbackQueryHandler(report_button, pattern=REPORT_BUTTON))
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CommandHandler("reports", review))
    app.add_handler(CommandHandler("unhide", unhide))
    app.add_handler(CommandHandler("ignorereports", ignore_reports))
    app.add_handler(CommandHandler("reportthreshold", report_threshold))
    app.add_handler(MessageHandler(filters.PHOTO & filters.ChatType.GROUPS, group_photo))
