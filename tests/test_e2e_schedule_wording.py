"""What an admin types to /schedule and reads back: days, times, cron, numbers and lists."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.app import build_application, polling
from bot.config import BotConfig
from tests.support import NOW
from tests.support.chat import ask

ADMIN = 42
GROUP = -1001234


def group_with_admin(emulator) -> None:
    emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
    emulator.set_member(GROUP, ADMIN, "administrator")


async def in_group(emulator, text: str) -> str:
    await emulator.send_text(GROUP, text, user_id=ADMIN)
    return (await emulator.next_message(GROUP)).text


async def rules(akhbar):
    return [s.rule for s in await akhbar.bot_data.services.schedules.of_chat(GROUP)]


async def test_days_in_separate_words_are_all_kept(emulator, akhbar):
    group_with_admin(emulator)
    created = await in_group(emulator, "/schedule 12:00 mon wed")
    assert "الاثنين" in created and "الأربعاء" in created
    [rule] = await rules(akhbar)
    assert rule.days == (0, 2)


async def test_friday_spelt_with_a_final_ha_is_friday(emulator, akhbar):
    group_with_admin(emulator)
    assert "الجمعة" in await in_group(emulator, "/schedule 08:00 الجمعه")
    [rule] = await rules(akhbar)
    assert rule.days == (4,) and rule.cron is None


async def test_pm_after_a_time_means_the_evening(emulator, akhbar):
    group_with_admin(emulator)
    created = await in_group(emulator, "/schedule 8:00 pm")
    assert "20:00" in created and "pm" not in created
    [rule] = await rules(akhbar)
    assert [t.hour for t in rule.times] == [20]
    refused = await in_group(emulator, "/schedule 14:00 pm")
    assert "ليس وقتا" in refused
    assert "ليس وقتا" in await in_group(emulator, "/schedule maroc pm 08:00")
    await in_group(emulator, "/schedule 7:30 مساء")
    assert [t.hour for r in await rules(akhbar) for t in r.times] == [20, 19]


async def test_a_bad_cron_field_is_named(emulator, akhbar):
    group_with_admin(emulator)
    weekday = await in_group(emulator, '/schedule cron "0 8 * * 5-1"')
    assert "«5-1»" in weekday and "يومًا من الأسبوع" in weekday
    assert "خمسة حقول" not in weekday
    minute = await in_group(emulator, '/schedule cron "61 8 * * *"')
    assert "«61»" in minute and "دقيقةً (من 0 إلى 59)" in minute
    assert await rules(akhbar) == []


async def test_cron_day_of_month_and_weekday_fire_on_either_as_crontab_does(emulator, akhbar):
    group_with_admin(emulator)
    await in_group(emulator, '/schedule cron "0 8 1 * 1"')  # the 1st and every Monday
    [schedule] = await akhbar.bot_data.services.schedules.of_chat(GROUP)
    rows = await akhbar.bot_data.services.db.execute_fetchall(
        "SELECT next_fire_at FROM schedules WHERE id = ?", (schedule.id,)
    )
    # NOW is Sunday 23 February 2025: the next Monday comes before 1 March
    assert datetime.fromtimestamp(rows[0][0], UTC) == datetime(2025, 2, 24, 8, 0, tzinfo=UTC)
    assert NOW.weekday() == 6


async def test_arabic_indic_digits_leave_no_latin_number_in_a_range(emulator, bot_config):
    config = bot_config.model_copy(update={"bot": BotConfig(page_size=8, digits="arab")})
    app = build_application(config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        emulator.add_chat(GROUP, "supergroup", title="نادي القراءة")
        emulator.set_member(GROUP, ADMIN, "administrator")
        refused = await in_group(emulator, "/schedule 08:00 99")
        assert "بين ١ و" in refused
        latest = await ask(emulator, "/latest 999")
        assert "بين ١ و" in latest.text and " 1 " not in latest.text
