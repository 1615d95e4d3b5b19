"""A live weekly meeting watched by 50 phones: time from recording an item to seeing it.

A real server (uvicorn, one process, SQLite, embedded Redis) serves one live meeting; 50
subscribers, each on its own HTTP connection with its own session, hold the meeting's
server-sent-event stream open (`/projects/BENCH/meetings/{id}/events`, what the page's htmx
SSE extension opens); a batch of only new decisions or action items extends the view
rendered last, anything else reads the meeting again. This process then records 100
decisions through the service, one every `interval` seconds, and each subscriber notes when
the re-rendered live fragment first shows each decision. Side by side in the same run, 50
bare Redis Stream readers (XREAD on the same stream, no HTTP, no rendering) give the floor.

    .venv/bin/python bench/meeting_fanout.py [subscribers, 50] [items, 100] [interval s, 0.1]

Target (issue 5): p95 from record to delivery at each subscriber ≤ 200 ms.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from updates import free_port, start_server, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MARK = re.compile(r"决议#(\d+)")


@dataclass
class Seen:
    """When each item was recorded and when each watcher first saw it."""

    recorded: dict[int, float] = field(default_factory=dict)
    delays: list[float] = field(default_factory=list)
    per_watcher: list[set[int]] = field(default_factory=list)

    def saw(self, watcher: int, text: str) -> None:
        now = time.perf_counter()
        for match in MARK.finditer(text):
            item = int(match.group(1))
            if item not in self.per_watcher[watcher] and item in self.recorded:
                self.per_watcher[watcher].add(item)
                self.delays.append(now - self.recorded[item])

    def line(self, label: str) -> str:
        ordered = sorted(self.delays) or [float("nan")]
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        return (
            f"{label:44} {len(ordered):5d} deliveries  "
            f"median {statistics.median(ordered) * 1000:6.1f} ms  p95 {p95 * 1000:6.1f} ms  "
            f"max {ordered[-1] * 1000:6.1f} ms"
        )


async def seed(watchers: int, settings: object) -> tuple[int, object, list[str]]:
    """A project with a PM and `watchers` members, a live meeting, a session per watcher."""
    from server.auth import Actor
    from server.meetings import running as meeting_running
    from server.meetings import service as meetings
    from server.org import service as org
    from server.projects import service as projects
    from server.projects.models import Role

    system = Actor.system()
    department = await org.create_department(system, name="研发部")
    people = []
    for n in range(watchers + 1):
        people.append(
            await org.create_user(
                system,
                name=f"成员{n}",
                email=f"m{n}@example.com",
                mobile=None,
                department_id=department.id,
                password=None,
                is_admin=False,
                language="zh-CN",
            )
        )
    pm = Actor.for_user(people[0])
    project = await projects.create_project(
        pm,
        projects.ProjectInput(
            code="BENCH",
            name="会议压测",
            initiating_department_id=department.id,
            department_ids=[],
            start_date=date(2026, 11, 2),
            goals="",
        ),
    )
    for person in people[1:]:
        await projects.add_project_member(
            pm,
            projects.MemberInput(
                project_id=project.id,
                user_id=person.id,
                role=Role.MEMBER,
                department_id=department.id,
            ),
        )
    meeting = await meetings.create_meeting(
        pm,
        project_id=project.id,
        data=meetings.MeetingInput(
            kind="WEEKLY",
            title="压测周例会",
            scheduled_start=datetime.now(UTC) + timedelta(minutes=5),
            duration_minutes=60,
            attendee_ids=[p.id for p in people],
        ),
    )
    await meeting_running.start_meeting(pm, meeting_id=meeting.id)
    sessions = [await org.start_session(settings, user=p) for p in people[1:]]  # type: ignore[arg-type]
    return meeting.id, pm, sessions


async def sse_watcher(
    url: str,
    path: str,
    session: str,
    index: int,
    seen: Seen,
    ready: asyncio.Event,
    counter: list[int],
) -> None:
    cookies = {"xt_session": session}
    client = httpx.AsyncClient(base_url=url, cookies=cookies, timeout=None)
    async with client, client.stream("GET", path) as response:
        assert response.status_code == 200, response.status_code
        counter[0] += 1
        if counter[0] == len(seen.per_watcher):
            ready.set()
        data: list[str] = []
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line and data:
                seen.saw(index, "\n".join(data))
                data = []


async def redis_watcher(redis_url: str, key: str, arrivals: dict[int, float]) -> None:
    """Notes when each decision's event arrives (by decision id; matched to items afterwards)."""
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url, decode_responses=True)
    cursor = "$"
    try:
        while True:
            answer = await client.xread({key: cursor}, block=0, count=100)
            for _, entries in answer:
                for entry_id, fields in entries:
                    cursor = entry_id
                    decision = json.loads(fields.get("data", "{}")).get("decisionId")
                    if decision is not None:
                        arrivals.setdefault(int(decision), time.perf_counter())
    finally:
        await client.aclose()


async def main(watchers: int, items: int, interval: float) -> int:
    with tempfile.TemporaryDirectory(prefix="xietong-fanout-") as tmp:
        data_dir = Path(tmp)
        os.environ["XIETONG_DATA_DIR"] = str(data_dir)
        os.environ.pop("DATABASE_URL", None)
        from server.db import close_db, init_db, migrate
        from server.events import stream_key
        from server.meetings import running as meeting_running
        from server.redis_embedded import EmbeddedRedis
        from server.settings import get_settings, reset_settings

        redis = EmbeddedRedis(data_dir)
        redis_url = redis.start()
        os.environ["REDIS_URL"] = redis_url
        reset_settings()
        settings = get_settings()
        await migrate(settings)
        await init_db(settings)
        meeting_id, pm, sessions = await seed(watchers, settings)
        port = free_port()
        server = start_server(data_dir, redis_url, port)
        sse, bare = Seen(), Seen()
        sse.per_watcher = [set() for _ in sessions]
        tasks: list[asyncio.Task[None]] = []
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_until_up(url)
            path = f"/projects/BENCH/meetings/{meeting_id}/events"
            ready, counter = asyncio.Event(), [0]
            for i, session in enumerate(sessions):
                tasks.append(
                    asyncio.create_task(sse_watcher(url, path, session, i, sse, ready, counter))
                )
            key = stream_key("meeting", meeting_id)
            arrivals: list[dict[int, float]] = [{} for _ in sessions]
            for i in range(len(sessions)):
                tasks.append(asyncio.create_task(redis_watcher(redis_url, key, arrivals[i])))
            decision_ids: dict[int, int] = {}
            await asyncio.wait_for(ready.wait(), 60)
            await asyncio.sleep(1.0)  # every stream is blocked reading now
            started = time.perf_counter()
            for n in range(1, items + 1):
                # The event carries only ids; the bare readers see the id, the pages the text.
                recorded_at = time.perf_counter()
                sse.recorded[n] = recorded_at
                decision = await meeting_running.record_decision(
                    pm, meeting_id=meeting_id, text=f"决议#{n}"
                )
                decision_ids[n] = decision.id
                await asyncio.sleep(max(0.0, recorded_at + interval - time.perf_counter()))
            recording = time.perf_counter() - started
            await asyncio.sleep(2.0)
            from views.meetings import _render_live

            render_started = time.perf_counter()
            for _ in range(10):
                await _render_live(meeting_id, None, [], "zh-CN")
            render_ms = (time.perf_counter() - render_started) * 100
            for seen_by_one in arrivals:
                for n, decision_id in decision_ids.items():
                    if decision_id in seen_by_one:
                        bare.delays.append(seen_by_one[decision_id] - sse.recorded[n])
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            await close_db()
            redis.stop()

    expected = items * watchers
    print(
        f"{watchers} subscribers on one live meeting, {items} decisions recorded "
        f"{1 / interval:.0f}/s ({recording:.1f} s), one server process, SQLite, embedded Redis"
    )
    print(sse.line("SSE page stream (render + HTTP)"))
    print(bare.line("baseline: bare Redis XREAD readers"))
    ratio = statistics.median(sse.delays) / max(statistics.median(bare.delays), 1e-9)
    print(f"median SSE / bare Redis: {ratio:.1f}x")
    print(
        f"one full read and render of the live fragment ({items} decisions), "
        f"in this process: {render_ms:.1f} ms (a batch of new entries extends the last view)"
    )
    missing = expected - len(sse.delays)
    print(f"delivered {len(sse.delays)} of {expected} to SSE subscribers, missing {missing}")
    ordered = sorted(sse.delays)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(f"target p95 <= 200 ms: {'met' if p95 <= 0.2 else 'NOT met'}")
    return 1 if missing else 0


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    total = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    sys.exit(asyncio.run(main(count, total, pause)))
