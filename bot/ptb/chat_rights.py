"""What Telegram says about a chat: is this person an admin, may the bot post there."""

from __future__ import annotations

from telegram import ChatMember, Message
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden

from bot.models import ChatRights, TargetChat
from bot.ptb.context import AkhbarContext

_ADMINS = (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def bot_may_post(member: ChatMember, chat_type: str) -> bool:
    """Whether a chat member with this status and these rights can post in the chat."""
    status = member.status
    if status == ChatMemberStatus.OWNER:
        return True
    if chat_type == ChatType.CHANNEL:
        return status == ChatMemberStatus.ADMINISTRATOR and bool(
            getattr(member, "can_post_messages", False)
        )
    if status == ChatMemberStatus.RESTRICTED:
        return bool(getattr(member, "can_send_messages", False))
    return status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)


async def rights_in(
    context: AkhbarContext, chat: TargetChat, user_id: int, message: Message | None = None
) -> ChatRights:
    """Ask Telegram (getChatMember) about the person and the bot; checked on every change."""
    if chat.type == ChatType.PRIVATE:
        return ChatRights(is_admin=True, bot_may_post=True)
    try:
        me = await context.bot.get_chat_member(chat.chat_id, context.bot.id)
        # An anonymous group admin writes as the group itself.
        anonymous_admin = (
            message is not None
            and message.sender_chat is not None
            and (message.sender_chat.id == chat.chat_id)
        )
        person = (
            None if anonymous_admin else await context.bot.get_chat_member(chat.chat_id, user_id)
        )
    except (BadRequest, Forbidden):
        return ChatRights(is_admin=False, bot_may_post=False)
    is_admin = anonymous_admin or person.status in _ADMINS
    return ChatRights(is_admin=is_admin, bot_may_post=bot_may_post(me, chat.type))


async def is_group_admin(
    context: AkhbarContext, chat_id: int, chat_type: str, user_id: int
) -> bool:
    """Whether the person administers this group or channel (never true in a private chat)."""
    if chat_type == ChatType.PRIVATE:
        return False
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden):
        return False
    return member.status in _ADMINS
