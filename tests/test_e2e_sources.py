"""Operators manage sources and read statistics in chat, over real HTTP through the emulator."""

from __future__ import annotations

from bot.app import build_application, polling
from bot.config import ModerationConfig
from tests.support import NOW
from tests.support.feeds import item, rss
from tests.support.waiting import eventually

OPERATOR = 900
USER = 101
PAGE = """<!doctype html><html><head><title>Le Site</title>
<link rel="alternate" type="application/rss+xml" title="RSS" href="/site/feed.xml">
</head><body>Bienvenue</body></html>"""


def operated(config, **ingestion):
    return config.model_copy(
        update={
            "moderation": ModerationConfig(operator_ids=(OPERATOR,)),
            "ingestion": config.ingestion.model_copy(update=ingestion),
        }
    )


async def ask(emulator, text: str, chat_id: int = OPERATOR, **user):
    await emulator.send_text(chat_id, text, **user)
    return await emulator.next_message(chat_id)


def edits(emulator) -> int:
    return sum(call.method == "editMessageText" for call in emulator.requests)


async def press(emulator, message, label: str, chat_id: int = OPERATOR):
    """Press a button of `message` and return the message once the bot has changed it."""
    data = next(data for text, data in message.buttons if text == label)
    before = edits(emulator)
    await emulator.press_button(chat_id, message.message_id, data, user_id=chat_id)
    await eventually(lambda: edits(emulator) > before)
    return next(m for m in emulator.sent(chat_id) if m.message_id == message.message_id)


async def test_people_who_are_not_operators_are_refused_politely(bot_config, emulator):
    app = build_application(operated(bot_config), clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        for command in ("/sources", "/addsource https://example.org/feed", "/stats"):
            reply = await ask(emulator, command, chat_id=USER)
            assert reply.text == "إدارة المصادر والإحصاءات خاصة بمشغّلي البوت. شكرا لتفهمك."


async def test_an_operator_adds_a_site_by_its_page_after_seeing_what_it_holds(
    bot_config, emulator, feeds
):
    feeds.publish("/site/", PAGE, content_type="text/html")
    feeds.publish(
        "/site/feed.xml",
        rss(
            item("Le Maroc accueille la CAN", "https://site.test/can"),
            item("Météo", "https://site.test/m"),
        ),
    )
    app = build_application(operated(bot_config), clock=lambda: NOW)
    async with polling(app, poll_timeout=1):
        preview = await ask(emulator, f"/addsource {feeds.url('/site/')} sport fr")
        assert "2" in preview.text and "/site/feed.xml" in preview.text
        assert "Le Maroc accueille la CAN" in preview.text
        assert "رابط خلاصتها" in preview.text
        assert feeds.hits["/site/feed.xml"] == 1
        added = await press(emulator, preview, "أضف المصدر")
        assert added.text.startswith("أُضيف المصدر «127.0.0.1»")
        await eventually(lambda: feeds.hits["/site/feed.xml"] == 2)  # polled at once
        latest = await ask(emulator, "/latest sport", chat_id=USER)
        listing = await ask(emulator, "/sources")
        again = await ask(emulator, f"/addsource {feeds.url('/site/feed.xml')}")
    assert "Le Maroc accueille la CAN" in latest.text
    assert "127.0.0.1" in listing.text and "يعمل" in listing.text
    assert "مقال في اليوم" in listing.text and "الجلب القادم" in listing.text
    assert again.text == "هذا المصدر موجود من قبل."


async def test_a_cancelled_addition_saves_nothing(bot_config, emulator, feeds):
    feeds.publish("/f.xml", rss(item("خبر", "https://news.test/1")))
    app = build_application(operated(bot_config), clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        preview = await ask(emulator, f"/addsource {feeds.url('/f.xml')}")
        cancelled = await press(emulator, preview, "إلغاء")
        listing = await ask(emulator, "/sources")
    assert cancelled.text == "أُلغيت الإضافة."
    assert listing.text.startswith("لا توجد مصادر بعد")


async def test_a_private_address_is_refused_by_default_and_never_fetched(
    bot_config, emulator, feeds
):
    feeds.publish("/f.xml", rss(item("خبر", "https://news.test/1")))
    config = operated(bot_config, allowed_networks=())
    app = build_application(config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        loopback = await ask(emulator, f"/addsource {feeds.url('/f.xml')}")
        named = await ask(emulator, "/addsource http://localhost:9/feed")
        lan = await ask(emulator, "/addsource http://192.168.1.1/rss")
        scheme = await ask(emulator, "/addsource file:///etc/passwd")
    refused = "لا يمكن إضافة هذا المصدر: العنوان يقود إلى شبكة داخلية أو خاصة، وهذا مرفوض."
    assert loopback.text == named.text == lan.text == refused
    assert "ليس عنوان http أو https صالحا" in scheme.text
    assert feeds.hits["/f.xml"] == 0


async def test_an_operator_pauses_resumes_and_removes_a_source(bot_config, emulator, feeds):
    feeds.publish("/f.xml", rss(item("خبر", "https://news.test/1")))
    app = build_application(operated(bot_config), clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        preview = await ask(emulator, f"/addsource {feeds.url('/f.xml')} maroc")
        await press(emulator, preview, "أضف المصدر")
        paused = await ask(emulator, "/pausesource 127.0.0.1")
        listing = await ask(emulator, "/sources")
        resumed = await ask(emulator, "/resumesource 127.0.0.1")
        removed = await ask(emulator, "/removesource 127.0.0.1")
        unknown = await ask(emulator, "/removesource 127.0.0.1")
        usage = await ask(emulator, "/pausesource")
        empty = await ask(emulator, "/sources")
    assert paused.text == "أوقفت جلب «127.0.0.1»."
    assert "موقوف" in listing.text and "الجلب القادم" not in listing.text
    assert resumed.text == "استُؤنف جلب «127.0.0.1» ابتداء من الآن."
    assert removed.text.startswith("حُذف المصدر «127.0.0.1»")
    assert unknown.text == "لا يوجد مصدر باسم «127.0.0.1». راجع \u200e/sources."
    assert usage.text.startswith("اكتب اسم المصدر")
    assert empty.text.startswith("لا توجد مصادر بعد")


async def test_sources_are_listed_in_pages(bot_config, emulator, feeds):
    app = build_application(operated(bot_config), clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        from bot.models import Source

        for n in range(10):
            await app.bot_data.services.sources.add(Source(f"s{n:02}", feeds.url(f"/{n}.xml")))
        first = await ask(emulator, "/sources")
        second = await press(emulator, first, "التالي ←")
    assert "s00" in first.text and "s07" in first.text and "s08" not in first.text
    assert "(الصفحة 1 من 2)" in first.text
    assert "s08" in second.text and "s09" in second.text


async def test_stats_give_operators_the_numbers_and_a_chart(bot_config, emulator, feeds, tmp_path):
    feeds.publish(
        "/f.xml",
        rss(item("خبر أول", "https://news.test/1"), item("خبر ثان", "https://news.test/2")),
    )
    app = build_application(operated(bot_config), clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        from bot.models import Source

        services = app.bot_data.services
        await services.sources.add(Source("هسبريس", feeds.url("/f.xml")))
        await services.ingestion.poll(
            await services.sources.all() and (await services.sources.all())[0]
        )
        summary = await ask(emulator, "/stats")
        chart = await emulator.next_message(OPERATOR)
    assert summary.text.startswith("إحصاءات أخبار")
    assert "المقالات:" in summary.text and "صندوق الإرسال" in summary.text
    png = emulator.state.files.data(chart.photo_file_ids[-1])
    assert png.startswith(b"\x89PNG")
    (tmp_path / "stats.png").write_bytes(png)


async def test_a_source_added_in_chat_offers_its_topics_to_subscribers(bot_config, emulator, feeds):
    feeds.publish("/f.xml", rss(item("خبر", "https://news.test/1")))
    app = build_application(operated(bot_config), clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        preview = await ask(emulator, f"/addsource {feeds.url('/f.xml')} rugby")
        await press(emulator, preview, "أضف المصدر")
        await ask(emulator, "/subscribe", chat_id=USER)
        keyboard = await ask(emulator, "/topics", chat_id=USER)
    assert any("rugby" in text for text, _ in keyboard.buttons)
