"""Bot API methods about the bot itself, chats, members, commands and descriptions."""

from __future__ import annotations

from typing import Any

from .errors import bad_request
from .params import Params
from .records import CommandScope
from .state import ChatRecord, EmulatorState, MemberRecord
from .validation import check_chat_action, check_commands

_ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "left", "kicked"})
_DESCRIPTION_LIMITS = {"description": 512, "short_description": 120}


def member_json(user: dict[str, Any], member: MemberRecord) -> dict[str, Any]:
    """Return the Bot API ChatMember object for a membership."""
    data: dict[str, Any] = {"status": member.status, "user": user}
    if member.status == "creator":
        data["is_anonymous"] = False
    elif member.status == "administrator":
        data.update({"can_be_edited": False, "is_anonymous": False})
        data.update(dict.fromkeys(_ADMIN_RIGHTS, False))
        data["can_manage_chat"] = True
        data.update(member.rights)
    elif member.status == "kicked":
        data["until_date"] = 0
    return data


def get_me(state: EmulatorState, p: Params) -> dict[str, Any]:
    """getMe: the bot user with its capability flags."""
    return {
        **state.bot_json,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
    }


def get_chat(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any]:
    """getChat: a ChatFullInfo with the fields python-telegram-bot requires."""
    gift_types = dict.fromkeys(
        (
            "unlimited_gifts",
            "limited_gifts",
            "unique_gifts",
            "premium_subscription",
            "gifts_from_channels",
        ),
        False,
    )
    return {
        **chat.json,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": gift_types,
    }


def get_chat_member(state: EmulatorState, chat: ChatRecord, p: Params) -> dict[str, Any]:
    """getChatMember: the stored membership, "left" for known users who are not members."""
    user_id = p.required_int("user_id", "user_id is empty")
    user = state.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    member = chat.members.get(user_id, MemberRecord("left"))
    return member_json(user.to_json(), member)


def get_chat_administrators(state: EmulatorState, chat: ChatRecord, p: Params) -> list[Any]:
    """getChatAdministrators: creator and administrators of a group or channel."""
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    return [
        member_json(state.users[user_id].to_json(), member)
        for user_id, member in chat.members.items()
        if member.status in ("creator", "administrator")
    ]


def send_chat_action(state: EmulatorState, chat: ChatRecord, p: Params) -> bool:
    """sendChatAction: accept a known action."""
    check_chat_action(p.get_str("action"))
    return True


def set_my_commands(state: EmulatorState, p: Params) -> bool:
    """setMyCommands: store the list for its scope and language."""
    state.commands[_scope(p)] = check_commands(p.get_json("commands"))
    return True


def get_my_commands(state: EmulatorState, p: Params) -> list[dict[str, str]]:
    """getMyCommands: the list stored for exactly this scope and language."""
    pairs = state.commands.get(_scope(p), ())
    return [{"command": command, "description": text} for command, text in pairs]


def delete_my_commands(state: EmulatorState, p: Params) -> bool:
    """deleteMyCommands: forget the list for this scope and language."""
    state.commands.pop(_scope(p), None)
    return True


def set_my_description(state: EmulatorState, p: Params) -> bool:
    """setMyDescription: store the description for a language."""
    return _set_description(state, p, "description")


def set_my_short_description(state: EmulatorState, p: Params) -> bool:
    """setMyShortDescription: store the short description for a language."""
    return _set_description(state, p, "short_description")


def get_my_description(state: EmulatorState, p: Params) -> dict[str, str]:
    """getMyDescription: the stored description for a language."""
    key = ("description", p.get_str("language_code") or "")
    return {"description": state.descriptions.get(key, "")}


def get_my_short_description(state: EmulatorState, p: Params) -> dict[str, str]:
    """getMyShortDescription: the stored short description for a language."""
    key = ("short_description", p.get_str("language_code") or "")
    return {"short_description": state.descriptions.get(key, "")}


def get_file(state: EmulatorState, p: Params) -> dict[str, Any]:
    """getFile: a File with a path under the emulator's file URL."""
    info = state.files.file_info(p.get_str("file_id") or "")
    if info is None:
        raise bad_request("invalid file_id")
    return info


def _set_description(state: EmulatorState, p: Params, kind: str) -> bool:
    text = p.get_str(kind) or ""
    if len(text) > _DESCRIPTION_LIMITS[kind]:
        raise bad_request(f"{kind.replace('_', ' ')} is too long")
    state.descriptions[(kind, p.get_str("language_code") or "")] = text
    return True


def _scope(p: Params) -> CommandScope:
    scope = p.get_json("scope") or {}
    if not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    chat_id = scope.get("chat_id")
    if isinstance(chat_id, str) and not chat_id.startswith("@"):
        chat_id = int(chat_id)
    return CommandScope(
        type=scope.get("type", "default"),
        chat_id=chat_id,
        user_id=scope.get("user_id"),
        language_code=p.get_str("language_code") or "",
    )
