"""/stats for operators: the numbers of `akhbar stats` and a chart of the last 14 days."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot import formatting
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.statistics.charts import ChartLabels
from handlers.sources import operator_texts


async def show_stats(update: Update, context: AkhbarContext) -> None:
    if (t := await operator_texts(update, context)) is None:
        return
    service = context.services.stats
    report = await service.report()
    message = update.effective_message
    await message.reply_html(formatting.stats_summary(t, report.numbers, report.outbox))
    labels = ChartLabels(
        title=t("stats-chart-title"),
        articles=t("stats-chart-articles"),
        deliveries=t("stats-chart-deliveries"),
        subscribers=t("stats-chart-subscribers"),
        reports=t("stats-chart-reports"),
        other=t("stats-chart-other"),
    )
    png = await service.chart(report.chart, labels)
    await message.reply_photo(png, caption=formatting.text(t, "stats-chart-title"))


def register(app: AkhbarApp) -> None:
    app.add_handler(CommandHandler("stats", show_stats))
