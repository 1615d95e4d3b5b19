"""The worker process stops on SIGTERM even when the signal lands while arq records a job's
result (arq's close() then raises before its on_shutdown hook, which closes the database)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from arq.connections import create_pool

from workers.settings import redis_settings

ROOT = Path(__file__).resolve().parents[2]

# SIGTERM arrives in after_job_end, the last step of arq's run_job and outside its
# try/except, as it would between finishing a job and returning from it.
WORKER_STOPPED_AFTER_ITS_JOB = """
import asyncio, os, signal
from server.settings import get_settings
from workers.settings import build_worker, run_worker

async def stop_while_recording(ctx):
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.sleep(60)

asyncio.set_event_loop(asyncio.new_event_loop())
run_worker(build_worker(get_settings(), after_job_end=stop_while_recording))
print("worker stopped", flush=True)
"""


async def test_a_worker_stopped_while_recording_a_job_closes_the_database_and_exits(db):
    pool = await create_pool(redis_settings(db))
    try:
        await pool.enqueue_job("purge_sessions", _job_id="purge-before-sigterm")
    finally:
        await pool.aclose()
    env = dict(os.environ) | {
        "DATABASE_URL": db.database_url,
        "REDIS_URL": db.redis_url or "",
        "XIETONG_DATA_DIR": str(db.data_dir),
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER_STOPPED_AFTER_ITS_JOB,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
    )
    try:
        output, _ = await asyncio.wait_for(worker.communicate(), timeout=30)
    except TimeoutError:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
        raise AssertionError("the worker did not exit within 30 s of SIGTERM") from None
    assert worker.returncode == 0
    assert output.decode().strip().endswith("worker stopped")
