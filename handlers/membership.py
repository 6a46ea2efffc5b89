"""The bot's own membership: removed, demoted or blocked pauses a chat's schedules; allowed
to post again resumes them; a group upgraded to a supergroup keeps them under its new id."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ChatMemberHandler, MessageHandler, filters

from bot.models import UnreachableReason
from bot.ptb.chat_rights import bot_may_post
from bot.ptb.context import AkhbarApp, AkhbarContext

log = logging.getLogger(__name__)


async def bot_membership(update: Update, context: AkhbarContext) -> None:
    change = update.my_chat_member
    chat, member = change.chat, change.new_chat_member
    if bot_may_post(member, chat.type):
        await context.services.subscriptions.chat_reachable(chat.id)
        if context.bot_data.delivery is not None:
            context.bot_data.delivery.chat_reachable(chat.id)
        return
    reason = UnreachableReason.REMOVED
    if member.status in ("administrator", "restricted"):
        reason = UnreachableReason.NO_RIGHT_TO_POST
    await context.services.subscriptions.chat_unreachable(chat.id, reason)


async def group_migrated(update: Update, context: AkhbarContext) -> None:
    message = update.effective_message
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    else:
        old, new = message.migrate_from_chat_id, message.chat_id
    await context.services.subscriptions.chat_migrated(old, new)


def register(app: AkhbarApp) -> None:
    app.add_handler(ChatMemberHandler(bot_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated))
