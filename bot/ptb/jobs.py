"""Digest jobs: one named JobQueue job per stored schedule (`digest:<schedule_id>`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from bot.models import Schedule
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.subscriptions import rules as schedule_rules

log = logging.getLogger(__name__)


def job_name(schedule_id: int) -> str:
    return f"digest:{schedule_id}"


async def run_digest(context: AkhbarContext) -> None:
    """Queue the digest of the slot due now (the service serves each slot once)."""
    digest = await context.services.digests.run_schedule(context.job.data)
    if digest is not None:
        context.wake_delivery()
        log.info("digest of schedule %s: %s articles", context.job.data, len(digest.articles))


def schedule_job(app: AkhbarApp, schedule: Schedule, tz: ZoneInfo) -> None:
    """(Re)place the job of one schedule in the chat's time zone."""
    remove_jobs(app, [schedule.id])
    grace = app.bot_data.services.config.digests.misfire_grace
    app.job_queue.run_custom(
        run_digest,
        job_kwargs={
            "trigger": schedule_rules.trigger(schedule.rule, tz),
            # A late run (event loop busy, host asleep) still serves its slot within the grace
            # period; piled-up runs collapse into one; one run of a schedule at a time.
            "misfire_grace_time": int(grace.total_seconds()),
            "coalesce": True,
            "max_instances": 1,
        },
        name=job_name(schedule.id),
        data=schedule.id,
    )


def remove_jobs(app: AkhbarApp, schedule_ids: Iterable[int]) -> None:
    for schedule_id in schedule_ids:
        for job in app.job_queue.get_jobs_by_name(job_name(schedule_id)):
            job.schedule_removal()


async def reschedule_chat(app: AkhbarApp, chat_id: int) -> None:
    """Re-create a chat's jobs (after its time zone changed)."""
    services = app.bot_data.services
    tz = await services.digests.zone_of(chat_id)
    for schedule in await services.schedules.of_chat(chat_id):
        schedule_job(app, schedule, tz)


async def register_all(app: AkhbarApp) -> None:
    """At start-up: a job per stored schedule, and one catch-up run for each slot missed
    during downtime within the grace period (the JobQueue only knows future fire times)."""
    services = app.bot_data.services
    for schedule in await services.schedules.all_schedules():
        tz = await services.digests.zone_of(schedule.chat_id)
        schedule_job(app, schedule, tz)
        if not schedule.is_paused and services.digests.is_missed(schedule, tz):
            app.job_queue.run_once(
                run_digest, when=0, data=schedule.id, name=f"{job_name(schedule.id)}:catch-up"
            )


async def run_due_digests(app: AkhbarApp) -> int:
    """Queue the digest of every schedule whose slot is due at the services' clock now;
    return how many were queued. The service serves each slot once, so a run that a job
    already made queues nothing again."""
    services = app.bot_data.services
    queued = 0
    for schedule in await services.schedules.all_schedules():
        if not schedule.is_paused and await services.digests.run_schedule(schedule.id):
            queued += 1
    if queued and app.bot_data.delivery is not None:
        app.bot_data.delivery.wake()
    log.info("due digests run: %s queued", queued)
    return queued
