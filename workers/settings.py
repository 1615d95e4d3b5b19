"""arq worker: the jobs of workers/jobs.py, on a schedule, with the database opened once."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from arq import cron
from arq.connections import RedisSettings
from arq.cron import CronJob

import server.domains  # noqa: F401  (every domain's event handlers)
from server import metrics
from server.db import close_db, init_db
from server.planning.cpm import warm_up
from server.runtime import settle_long_lived_objects
from server.settings import Settings, get_settings
from workers.jobs import JOBS

log = logging.getLogger(__name__)


def _settings(ctx: dict[str, Any]) -> Settings:
    settings: Settings = ctx.get("settings") or get_settings()
    return settings


async def startup(ctx: dict[str, Any]) -> None:
    if not ctx.get("database_ready"):
        await init_db(_settings(ctx))
        ctx["owns_database"] = True
    await asyncio.to_thread(warm_up)
    settle_long_lived_objects()


async def shutdown(ctx: dict[str, Any]) -> None:
    if ctx.get("owns_database"):
        await close_db()
        ctx["owns_database"] = False


JobFunction = TypeVar("JobFunction", bound=Callable[..., Awaitable[str]])


def measured(job: JobFunction) -> JobFunction:
    """Counted and timed for /metrics, and logged with its outcome; arq knows the job by
    the same name (functools.wraps keeps __qualname__)."""
    name = job.__name__.replace("_on_schedule", "").replace("_", "-")

    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> str:
        started, outcome = time.perf_counter(), "failed"
        try:
            said = await job(ctx, *args, **kwargs)
            outcome = "ok"
            return said
        finally:
            seconds = time.perf_counter() - started
            metrics.JOB_RUNS.labels(name, outcome).inc()
            metrics.JOB_SECONDS.labels(name).observe(seconds)
            log.info(
                "job %s %s in %.0f ms",
                name,
                outcome,
                seconds * 1000,
                extra={"job": name, "outcome": outcome, "duration_ms": round(seconds * 1000, 2)},
            )

    return cast(JobFunction, run)


@measured
async def deliver_notices(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["deliver-notices"](_settings(ctx), project_code)


@measured
async def purge_sessions(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["purge-sessions"](_settings(ctx), project_code)


@measured
async def escalations(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["escalations"](_settings(ctx), project_code)


@measured
async def snapshots(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["snapshots"](_settings(ctx), project_code)


@measured
async def digest(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["digest"](_settings(ctx), project_code)


@measured
async def minutes_deadlines(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["minutes-deadlines"](_settings(ctx), project_code)


@measured
async def report_reminders(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["report-reminders"](_settings(ctx), project_code)


@measured
async def verify_signatures(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["verify-signatures"](_settings(ctx), project_code)


@measured
async def change_reminders(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["change-reminders"](_settings(ctx), project_code)


@measured
async def backup(ctx: dict[str, Any], project_code: str | None = None) -> str:
    return await JOBS["backup"](_settings(ctx), project_code)


@measured
async def escalations_on_schedule(ctx: dict[str, Any]) -> str:
    return await JOBS["escalations"](_settings(ctx), None, scheduled=True)


@measured
async def digest_on_schedule(ctx: dict[str, Any]) -> str:
    return await JOBS["digest"](_settings(ctx), None, scheduled=True)


def redis_settings(settings: Settings) -> RedisSettings:
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set and no embedded Redis was started")
    return RedisSettings.from_dsn(settings.redis_url)


CRON_JOBS: list[CronJob] = [
    # Often, so a notice leaves within seconds of its cause; claiming makes overlaps harmless.
    cron(deliver_notices, second={0, 10, 20, 30, 40, 50}, unique=True, run_at_startup=True),
    cron(purge_sessions, hour={3}, minute={17}, unique=True),
    # Hourly: each project's own 09:00 (its time zone) decides; dedup keys make reruns harmless.
    cron(escalations_on_schedule, minute={0}, second={5}, unique=True),
    cron(digest_on_schedule, minute={0}, second={35}, unique=True),
    # Hourly too: a rerun the same local day replaces that day's row, so the last one wins.
    cron(snapshots, minute={50}, unique=True),
    # Minutes are due to the minute; the level reached and dedup keys make reruns harmless.
    cron(minutes_deadlines, minute={0, 10, 20, 30, 40, 50}, second={15}, unique=True),
    cron(report_reminders, minute={20}, unique=True),
    cron(verify_signatures, hour={4}, minute={23}, unique=True),
    # Working days waited decide the rung; dedup keys make reruns harmless.
    cron(change_reminders, minute={40}, unique=True),
    # Says "off" and does nothing unless XIETONG_BACKUP_DIR is set.
    cron(backup, hour={2}, minute={30}, unique=True),
]


class WorkerSettings:
    functions = [
        deliver_notices,
        purge_sessions,
        escalations,
        snapshots,
        digest,
        minutes_deadlines,
        report_reminders,
        verify_signatures,
        change_reminders,
        backup,
    ]
    cron_jobs = CRON_JOBS
    on_startup = startup
    on_shutdown = shutdown
    max_jobs = 10
    job_timeout = 300
    keep_result = 3600
    health_check_interval = 60

    @staticmethod
    def redis_settings_from_env() -> RedisSettings:
        return redis_settings(get_settings())


def build_worker(
    settings: Settings,
    *,
    burst: bool = False,
    database_ready: bool = False,
    cron_jobs: list[CronJob] | None = None,
    **options: Any,
) -> Any:
    """An arq Worker for these settings (tests pass burst=True and their own database)."""
    from arq.worker import Worker

    return Worker(
        functions=WorkerSettings.functions,
        cron_jobs=WorkerSettings.cron_jobs if cron_jobs is None else cron_jobs,
        redis_settings=redis_settings(settings),
        on_startup=startup,
        on_shutdown=shutdown,
        ctx={"settings": settings, "database_ready": database_ready},
        burst=burst,
        max_jobs=WorkerSettings.max_jobs,
        job_timeout=WorkerSettings.job_timeout,
        keep_result=WorkerSettings.keep_result,
        **options,
    )


def run_worker(worker: Any) -> None:
    """Run until SIGTERM/SIGINT, and close the database however arq's shutdown ends.

    A job cancelled by the signal while arq records its result makes arq's close() raise
    before it calls on_shutdown; SQLite's connection thread then stays open and the process
    never exits."""
    try:
        worker.run()
    except asyncio.CancelledError:
        log.info("a job was cancelled while its result was recorded; closing the database")
    finally:
        worker.loop.run_until_complete(shutdown(worker.ctx))
