"""Step 3's lists at size, side by side with the plan page of the same project:
500 requirements and 300 resource requests beside a 500-task plan. Prints, per page, the SQL
statements (must not grow with the rows), the median time and the size.

    .venv/bin/python bench/requirements.py [repeats, default 10]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.plan_500 import seed_project  # noqa: E402
from bench.statements import counting, stop_counting  # noqa: E402

PAGES = (
    "/projects/{code}/plan",
    "/projects/{code}/requirements",
    "/projects/{code}/requirements.xlsx",
    "/projects/{code}/resources",
    "/projects/{code}/resources.xlsx",
)


async def seed_step_3(code: str, requirements: int, requests: int) -> None:
    """Rows inserted in bulk (thousands of service calls would only time the writes)."""
    from server.org.models import Department
    from server.projects.models import Project, ProjectDepartment
    from server.requirements.models import Requirement, ResourceRequest

    project = await Project.get(code=code)
    departments = [project.initiating_department_id]
    for name in ("研发部", "生产部", "销售部"):
        department = await Department.create(name=f"{name}-{code}")
        await ProjectDepartment.create(
            project=project, department=department, pair=f"{project.id}:{department.id}"
        )
        departments.append(department.id)
    await Requirement.bulk_create(
        [
            Requirement(
                project=project,
                department_id=departments[n % len(departments)],
                asked_of_id=departments[(n + 1) % len(departments)],
                title=f"需求 {n}",
                acceptance_criterion="验收通过",
            )
            for n in range(requirements)
        ]
    )
    await ResourceRequest.bulk_create(
        [
            ResourceRequest(
                project=project,
                department_id=departments[n % len(departments)],
                supplier_id=departments[(n + 2) % len(departments)],
                kind="BUDGET",
                description=f"资源 {n}",
                quantity=1,
                amount=f"{1000 + n}.50",
            )
            for n in range(requests)
        ]
    )


async def bench(repeats: int) -> None:
    import httpx

    with tempfile.TemporaryDirectory() as folder:
        os.environ.update(
            {
                "XIETONG_DATA_DIR": folder,
                "DATABASE_URL": f"sqlite://{folder}/bench.sqlite3",
                "XIETONG_SECRET_KEY": "bench",
            }
        )
        from server.app import create_app
        from server.auth import Actor
        from server.db import init_db, migrate
        from server.org import service as org
        from server.settings import load_settings, reset_settings

        reset_settings()
        settings = load_settings()
        await migrate(settings)
        await init_db(settings)
        department = await org.create_department(Actor.system(), name="市场部")
        await org.create_user(
            Actor.system(),
            name="王芳",
            email="bench@example.com",
            department_id=department.id,
            password="bench-password-1",
        )
        for code, size in (("S10", 10), ("S500", 500)):
            await seed_project(code, max(size, 50))
            await seed_step_3(code, size, size * 3 // 5)
        app = create_app(settings, init_database=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            await http.get("/login")
            await http.post(
                "/login",
                data={
                    "email": "bench@example.com",
                    "password": "bench-password-1",
                    "csrf_token": http.cookies.get("xt_csrf"),
                },
            )
            print(f"Step 3 lists beside the plan page (median of {repeats}):")
            for template in PAGES:
                line = []
                for code in ("S10", "S500"):
                    url = template.format(code=code)
                    counter = counting()
                    response = await http.get(url)
                    stop_counting(counter)
                    assert response.status_code == 200, (url, response.status_code)
                    samples = []
                    for _ in range(repeats):
                        began = time.perf_counter()
                        await http.get(url)
                        samples.append(time.perf_counter() - began)
                    line.append(
                        f"{code[1:]:>3} rows: {counter.count:2d} SQL, "
                        f"{statistics.median(samples) * 1000:7.1f} ms, "
                        f"{len(response.content) / 1024:6.1f} KiB"
                    )
                print(f"  {template.format(code='CODE'):34} " + " | ".join(line))
        from tortoise import Tortoise

        await Tortoise.close_connections()


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    asyncio.run(bench(repeats))


if __name__ == "__main__":
    main()
