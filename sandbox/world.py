"""Who and what the sandbox's Telegram holds: people, a group, a forum and a channel."""

from __future__ import annotations

from dataclasses import dataclass

from emulator import BotApiEmulator
from emulator.simulation import text_content, user_message
from emulator.webchat import WebChat

BOT_TOKEN = "7000000001:sandbox-local-token"  # never leaves the machine: the emulator checks it
BOT_USERNAME = "akhbar_sandbox_bot"
BOT_NAME = "Akhbar · أخبار"


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    name: str
    role: str
    language: str


SUBSCRIBER = Person(101, "Salma", "subscriber", "ar")
READER_YOUSSEF = Person(102, "Youssef", "reader who can report", "ar")
READER_CAMILLE = Person(103, "Camille", "reader who can report", "fr")
GROUP_ADMIN = Person(104, "Omar", "group admin", "ar")
CHANNEL_ADMIN = Person(105, "Nadia", "channel admin", "en")
PEOPLE = (SUBSCRIBER, READER_YOUSSEF, READER_CAMILLE, GROUP_ADMIN, CHANNEL_ADMIN)

GROUP_ID = -1001000000001
GROUP_TITLE = "قراء الدار البيضاء"
FORUM_ID = -1001000000002
FORUM_TITLE = "منتدى أخبار"
FORUM_TOPICS = ("رياضة", "اقتصاد")
CHANNEL_ID = -1001000000003
CHANNEL_TITLE = "موجز أخبار المغرب"
CHANNEL_USERNAME = "akhbar_sandbox_channel"
PHOTO_SOURCE = "Akhbar sandbox"
CHANNEL_WELCOME = "مرحبا بكم في قناة موجز أخبار المغرب 🇲🇦"


def seed(emulator: BotApiEmulator, webchat: WebChat) -> dict[str, int]:
    """Add the people and chats; return the forum's topic ids by name."""
    bot_id = emulator.state.bot.id
    for person in PEOPLE:
        emulator.add_user(person.id, first_name=person.name, language_code=person.language)
        webchat.add_person(person.id, person.role)
    readers = (SUBSCRIBER, READER_YOUSSEF, READER_CAMILLE)

    emulator.add_chat(GROUP_ID, "supergroup", title=GROUP_TITLE)
    emulator.set_member(GROUP_ID, GROUP_ADMIN.id, "creator")
    # The bot may delete members' photos: a hidden image posted in the group is removed.
    emulator.set_member(GROUP_ID, bot_id, "administrator", can_delete_messages=True)
    for person in readers:
        emulator.set_member(GROUP_ID, person.id)

    emulator.add_chat(FORUM_ID, "supergroup", title=FORUM_TITLE, is_forum=True)
    emulator.set_member(FORUM_ID, GROUP_ADMIN.id, "creator")
    for person in readers:
        emulator.set_member(FORUM_ID, person.id)
    topics = {
        name: emulator.create_topic(FORUM_ID, name, user_id=GROUP_ADMIN.id) for name in FORUM_TOPICS
    }

    emulator.add_chat(CHANNEL_ID, "channel", title=CHANNEL_TITLE, username=CHANNEL_USERNAME)
    emulator.set_member(CHANNEL_ID, CHANNEL_ADMIN.id, "creator")
    emulator.set_member(CHANNEL_ID, bot_id, "administrator", can_post_messages=True)
    for person in (SUBSCRIBER, READER_YOUSSEF):
        emulator.set_member(CHANNEL_ID, person.id)
    _channel_post(emulator, CHANNEL_WELCOME)
    return topics


def _channel_post(emulator: BotApiEmulator, text: str) -> None:
    """A post already in the channel (not an update: it predates the bot's start)."""
    state = emulator.state
    user_message(
        state, state.users[CHANNEL_ADMIN.id], state.chats[CHANNEL_ID], **text_content(text)
    )
