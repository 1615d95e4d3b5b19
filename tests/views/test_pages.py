"""Pages as a person uses them: status, key content, refusals."""

from __future__ import annotations

import pytest

from server.org.models import ApiToken, Department, Session
from server.projects.models import Project, ProjectMember, Role
from tests import factories as f
from tests.conftest import count_queries
from tests.views.helpers import csrf, heading, log_in, post


async def test_login_page_is_chinese_by_default_and_english_on_request(http):
    chinese = await http.get("/login")
    assert chinese.status_code == 200 and "登录" in chinese.text
    english = await http.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Log in" in english.text


async def test_login_sets_a_safe_session_cookie_and_logout_revokes_it(http):
    await f.user(email="pm@example.com")
    response = await log_in(http, "pm@example.com")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    session = http.cookies.get("xt_session")
    assert (await http.get("/")).status_code == 200
    await post(http, "/logout", {})
    assert await Session.filter(revoked_at__isnull=False).count() == 1
    http.cookies.set("xt_session", session)
    assert (await http.get("/")).status_code == 303


async def test_wrong_password_says_so_on_the_field_and_repeated_failures_are_throttled(http):
    await f.user(email="pm@example.com")
    for _ in range(5):
        wrong = await log_in(http, "pm@example.com", "not-the-password")
        assert wrong.status_code == 400
        assert "password-error" in wrong.text and "账号或密码错误" in wrong.text
    locked = await log_in(http, "pm@example.com")
    assert locked.status_code == 400 and "失败次数过多" in locked.text
    assert http.cookies.get("xt_session") is None


async def test_a_form_post_without_the_csrf_token_is_refused_and_changes_nothing(http):
    admin = await f.user(email="admin@example.com", is_admin=True)
    await log_in(http, admin.email)
    refused = await http.post("/admin/departments", data={"name": "法务部"})
    assert refused.status_code == 403
    forged = await http.post("/admin/departments", data={"name": "法务部", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert not await Department.filter(name="法务部").exists()
    accepted = await post(http, "/admin/departments", {"name": "法务部"})
    assert accepted.status_code == 303 and await Department.filter(name="法务部").exists()


async def test_pages_need_a_login(http):
    response = await http.get("/projects/X1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/projects/X1"


async def test_my_projects_and_the_overview(http):
    mkt = await f.department("市场部")
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳", dept=mkt, email="pm@example.com")
    project = await f.project(pm, code="X1", departments=[rnd], name="智能保温杯")
    from server.planning.service import add_milestone

    await add_milestone(f.actor(pm), project_id=project.id, name="需求冻结", due="2026-11-27")
    await log_in(http, "pm@example.com")
    home = await http.get("/")
    assert "智能保温杯" in home.text and "项目经理" in home.text
    page = await http.get("/projects/X1")
    assert page.status_code == 200
    for text in ("上市首月销量", "需求冻结", "2026年11月27日", "研发部", "尚无接口人", "王芳"):
        assert text in page.text, text
    assert "王芳 创建了项目" in page.text  # recent activity


async def test_someone_elses_project_is_not_found(http):
    pm = await f.user()
    await f.project(pm, code="SECRET")
    await f.user(email="outsider@example.com")
    await log_in(http, "outsider@example.com")
    assert (await http.get("/projects/SECRET")).status_code == 404
    assert (await http.get("/projects/SECRET/team")).status_code == 404


async def test_creating_a_project_from_the_home_page(http):
    mkt = await f.department("市场部")
    await f.user(email="pm@example.com", dept=mkt)
    await log_in(http, "pm@example.com")
    created = await post(
        http,
        "/projects",
        {
            "code": "x2",
            "name": "渠道拓展",
            "initiating_department_id": str(mkt.id),
            "start_date": "2026-12-01",
        },
    )
    assert created.status_code == 303 and created.headers["location"] == "/projects/X2"
    refused = await post(
        http,
        "/projects",
        {"code": "X2", "name": "", "initiating_department_id": str(mkt.id), "start_date": "bad"},
    )
    assert refused.status_code == 400
    assert "name-error" in refused.text and "startDate-error" in refused.text
    assert await Project.all().count() == 1


async def test_editing_with_a_stale_version_shows_the_conflict_and_the_newer_values(http):
    pm = await f.user(email="pm@example.com")
    project = await f.project(pm, code="X1", name="旧名")
    await log_in(http, "pm@example.com")
    first = await post(
        http,
        "/projects/X1",
        {"version": "1", "name": "新名", "late_threshold_days": "3"},
        htmx=True,
    )
    assert first.status_code == 200 and 'id="summary"' in first.text and "新名" in first.text
    stale = await post(
        http,
        "/projects/X1",
        {"version": "1", "name": "我的名字", "late_threshold_days": "2"},
        htmx=True,
    )
    assert "已被他人修改" in stale.text
    assert 'value="新名"' in stale.text and "我的名字" in stale.text
    fresh = await Project.get(id=project.id)
    assert (fresh.name, fresh.late_threshold_days, fresh.version) == ("新名", 3, 2)


async def test_the_pm_adds_and_removes_members_in_place(http):
    rnd = await f.department("研发部")
    pm = await f.user(email="pm@example.com")
    project = await f.project(pm, code="X1", departments=[rnd])
    first = await f.user(name="孙浩", dept=rnd, mobile="13800000012")
    second = await f.user(name="李雷", dept=rnd)
    await log_in(http, "pm@example.com")
    page = await http.get("/projects/X1/team")
    assert page.status_code == 200 and "添加成员" in page.text

    def member(user, role):
        return {
            "user_id": str(user.id),
            "role": role,
            "department_id": str(rnd.id),
            "responsibilities": "对接研发任务",
        }

    added = await post(http, "/projects/X1/team", member(first, "LIAISON"), htmx=True)
    assert added.status_code == 200
    assert added.text.lstrip().startswith('<section id="team"')
    assert "孙浩" in added.text and "13800000012" in added.text and "部门接口人" in added.text

    second_liaison = await post(http, "/projects/X1/team", member(second, "LIAISON"), htmx=True)
    assert 'id="role-error"' in second_liaison.text
    assert "研发部 已有接口人（孙浩）" in second_liaison.text
    assert await ProjectMember.filter(project_id=project.id, role=Role.LIAISON).count() == 1

    liaison = await ProjectMember.get(project_id=project.id, role=Role.LIAISON)
    removed = await post(http, f"/projects/X1/team/{liaison.id}/remove", {}, htmx=True)
    assert removed.status_code == 200 and f'id="member-{liaison.id}"' not in removed.text
    assert (await ProjectMember.get(id=liaison.id)).left_at is not None


async def test_a_member_sees_the_team_but_cannot_change_it(http):
    rnd = await f.department("研发部")
    pm = await f.user()
    project = await f.project(pm, code="X1", departments=[rnd])
    viewer = await f.user(dept=rnd, email="viewer@example.com")
    await f.member(pm, project, viewer, Role.MEMBER)
    await log_in(http, "viewer@example.com")
    page = await http.get("/projects/X1/team")
    assert page.status_code == 200 and "添加成员" not in page.text
    attempt = await post(
        http,
        "/projects/X1/team",
        {"user_id": str(viewer.id), "role": "VIEWER", "department_id": str(rnd.id)},
    )
    assert attempt.status_code == 403
    assert await ProjectMember.filter(project_id=project.id).count() == 2


async def test_admin_pages_are_for_admins_only(http):
    await f.user(email="someone@example.com")
    await log_in(http, "someone@example.com")
    for url in ("/admin/users", "/admin/departments", "/mailbox"):
        assert (await http.get(url)).status_code == 403, url


async def test_admin_creates_and_deactivates_users(http):
    admin = await f.user(email="admin@example.com", is_admin=True)
    await log_in(http, admin.email)
    bad = await post(
        http,
        "/admin/users",
        {"name": "", "email": "nope", "department_id": str(admin.department_id)},
    )
    assert bad.status_code == 400 and "邮箱格式不正确" in bad.text
    created = await post(
        http,
        "/admin/users",
        {"name": "吴刚", "mobile": "13800000032", "department_id": str(admin.department_id)},
    )
    assert created.status_code == 303
    users = await http.get("/admin/users")
    assert "吴刚" in users.text and "13800000032" in users.text
    from server.org.models import User

    wu = await User.get(name="吴刚")
    await post(http, f"/admin/users/{wu.id}/active", {"active": "0", "version": str(wu.version)})
    assert not (await User.get(id=wu.id)).is_active


async def test_tokens_page_shows_the_secret_once(http):
    await f.user(email="dev@example.com")
    await log_in(http, "dev@example.com")
    created = await post(http, "/tokens", {"name": "手机客户端", "expires_days": "30"})
    assert created.status_code == 200
    token = await ApiToken.get(name="手机客户端")
    start = created.text.index('class="secret">') + len('class="secret">')
    secret = created.text[start : created.text.index("</code>", start)]
    assert secret.startswith(token.prefix) and len(secret) > 30
    listing = await http.get("/tokens")
    assert token.prefix in listing.text and secret not in listing.text
    await post(http, f"/tokens/{token.id}/revoke", {})
    assert (await ApiToken.get(id=token.id)).revoked_at is not None


async def test_language_choice_is_remembered_for_the_user(http):
    await f.user(email="pm@example.com")
    await log_in(http, "pm@example.com")
    await post(http, "/language", {"language": "en", "next": "/"})
    assert heading((await http.get("/")).text) == "My projects"
    assert (
        heading((await http.get("/", headers={"Accept-Language": "zh-CN"})).text) == "My projects"
    )


async def test_security_headers_on_pages(http):
    response = await http.get("/login")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script>" not in response.text


async def test_the_favicon_is_served_without_signing_in(http):
    icon = await http.get("/favicon.ico", follow_redirects=True)
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in icon.text


async def test_healthz_answers_ok_with_database_and_redis(http):
    response = await http.get("/healthz")
    assert (response.status_code, response.text) == (200, "ok")


@pytest.mark.parametrize("size", [3, 30])
async def test_overview_costs_the_same_queries_for_3_and_30_members(http, size):
    rnd = await f.department("研发部")
    pm = await f.user(email="pm@example.com", dept=rnd)
    project = await f.project(pm, code="X1")
    for _ in range(size - 1):
        await f.member(pm, project, await f.user(dept=rnd), Role.MEMBER)
    await log_in(http, "pm@example.com")
    await csrf(http)
    with count_queries() as counter:
        response = await http.get("/projects/X1")
    assert response.status_code == 200
    assert response.text.count("<li>") >= 1
    # 8: the PM's edit form also lists the departments that could take part; the PM's roles
    # come with the project.
    assert counter.count == 8, counter.queries


async def test_the_pm_archives_a_project_and_it_becomes_read_only(http):
    pm = await f.user(email="pm@example.com")
    project = await f.project(pm, code="X1")
    await log_in(http, "pm@example.com")
    page = await http.get("/projects/X1")
    assert "归档项目" in page.text and "编辑项目" in page.text
    archived = await post(http, "/projects/X1/archive", {"version": "1"})
    assert archived.status_code == 303
    after = await http.get("/projects/X1")
    assert "已归档" in after.text and "编辑项目" not in after.text and "归档项目" not in after.text
    refused = await post(http, "/projects/X1", {"version": "2", "name": "改名"})
    assert refused.status_code == 403
    # The refusal says why (issue 23, item 4), not only "not allowed or the form expired".
    assert "该项目已归档，只能查看。" in refused.text.split('class="form-error refusal"')[1]
    assert (await Project.get(id=project.id)).name == "新品上市"
    # No edit form is offered on an archived project's pages.
    problems = await http.get("/projects/X1/problems")
    assert 'action="/projects/X1/problems"' not in problems.text
    assert "该项目已归档，只能查看。" in problems.text
    for page_url in ("/projects/X1/risks", "/projects/X1/requirements", "/projects/X1/resources"):
        listed = await http.get(page_url)
        assert listed.status_code == 200 and 'method="post"' not in listed.text.split("<main")[1]


async def test_plan_page_gantt_and_excel_export(http):
    from io import BytesIO

    from openpyxl import load_workbook

    from server.demo import DEMO_PASSWORD, load_demo

    await load_demo()
    await log_in(http, "wangfang@example.com", DEMO_PASSWORD)
    page = await http.get("/projects/X1-LAUNCH/plan")
    assert page.status_code == 200
    for text in (
        "甘特图",
        "任务分解清单",
        "1.1",
        "用户访谈与竞品分析",
        "尚未录入 2027 年的法定节假日",
        "关键",
    ):
        assert text in page.text, text
    assert page.text.count('class="bar critical"') >= 5 and "marker-end" in page.text
    # The demo's tracking chart has its first point without waiting for the nightly job.
    tracking = await http.get("/projects/X1-LAUNCH/tracking")
    assert "<polyline" in tracking.text
    svg = await http.get("/projects/X1-LAUNCH/plan.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and svg.text.startswith("<svg")
    export = await http.get("/projects/X1-LAUNCH/plan.xlsx")
    sheet = load_workbook(BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("WBS 编码", "任务")
    assert rows[2][:2] == ("1.1", "    用户访谈与竞品分析")
    assert len(rows) == 1 + 21


async def test_someone_elses_plan_is_not_found(http):
    pm = await f.user()
    await f.project(pm, code="SECRET")
    await f.user(email="outsider@example.com")
    await log_in(http, "outsider@example.com")
    for url in ("/projects/SECRET/plan", "/projects/SECRET/plan.xlsx", "/projects/SECRET/plan.svg"):
        assert (await http.get(url)).status_code == 404


async def test_an_admin_enters_next_years_holidays_and_plans_move(http):
    from datetime import date

    from server.planning import company_calendar as planning_company_calendar
    from server.planning import service as planning
    from server.planning.models import TaskSchedule

    await planning_company_calendar.seed_company_calendar()
    admin = await f.user(email="admin@example.com", is_admin=True)
    project = await f.project(admin, code="X1")
    task = await planning.create_task(
        f.actor(admin),
        project_id=project.id,
        data=planning.TaskInput(name="春节前后", planned_start=date(2027, 2, 5), duration_days=3),
    )
    before = await TaskSchedule.get(task_id=task.id)
    assert before.early_finish == date(2027, 2, 9)  # weekends only: 2027 is not entered yet
    await log_in(http, admin.email)
    page = await http.get("/admin/calendar?year=2027")
    assert page.status_code == 200 and "尚未录入 2027 年的法定节假日" in page.text
    bad = await post(http, "/admin/calendar", {"day": "2027-02-30", "is_working": "0"})
    assert bad.status_code == 400 and "day-error" in bad.text
    for day in ("2027-02-08", "2027-02-09"):
        saved = await post(http, "/admin/calendar", {"day": day, "is_working": "0", "name": "春节"})
        assert saved.status_code == 303
    after = await TaskSchedule.get(task_id=task.id)
    assert after.early_finish == date(2027, 2, 11)
    listing = await http.get("/admin/calendar?year=2027")
    assert "春节" in listing.text and "尚未录入" not in listing.text


async def test_only_admins_edit_the_calendar(http):
    await f.user(email="someone@example.com")
    await log_in(http, "someone@example.com")
    assert (await http.get("/admin/calendar")).status_code == 403
    refused = await post(http, "/admin/calendar", {"day": "2027-02-08", "is_working": "0"})
    assert refused.status_code == 403


async def test_the_pm_edits_and_adds_tasks_in_place_on_the_plan(http):
    from server.demo import DEMO_PASSWORD, load_demo
    from server.planning.models import Task, TaskSchedule

    await load_demo()
    await log_in(http, "wangfang@example.com", DEMO_PASSWORD)
    hardware = await Task.get(name="硬件开发")
    launch = await Task.get(name="正式上市")
    launch_before = (await TaskSchedule.get(task_id=launch.id)).early_start
    form = await http.get(
        f"/projects/X1-LAUNCH/plan/tasks/{hardware.id}/edit", headers={"HX-Request": "true"}
    )
    assert form.text.lstrip().startswith(f'<tr id="task-{hardware.id}"')
    assert 'value="25"' in form.text
    values = {
        "version": str(hardware.version),
        "name": "硬件开发",
        "parent_id": str(hardware.parent_id),
        "planned_start": "2026-11-02",
        "duration_days": "30",
        "owner_id": str(hardware.owner_id),
        "department_id": str(hardware.department_id),
        "deliverable": "工程样机",
    }
    saved = await post(http, f"/projects/X1-LAUNCH/plan/tasks/{hardware.id}", values, htmx=True)
    assert saved.text.lstrip().startswith('<div id="plan">')
    launch_after = (await TaskSchedule.get(task_id=launch.id)).early_start
    assert launch_after > launch_before  # five more days of hardware push the launch out
    stale = await post(http, f"/projects/X1-LAUNCH/plan/tasks/{hardware.id}", values, htmx=True)
    assert stale.headers["HX-Retarget"] == f"#task-{hardware.id}"
    assert "已被他人修改" in stale.text
    assert (await Task.get(id=hardware.id)).duration_days == 30

    bad = await post(
        http,
        "/projects/X1-LAUNCH/plan/tasks",
        {"name": "", "planned_start": "2026-12-01", "duration_days": "3"},
        htmx=True,
    )
    assert "name-error" in bad.text and await Task.filter(name="").count() == 0
    added = await post(
        http,
        "/projects/X1-LAUNCH/plan/tasks",
        {
            "name": "认证测试",
            "planned_start": "2026-12-01",
            "duration_days": "3",
            "parent_id": str(hardware.parent_id),
        },
        htmx=True,
    )
    assert "认证测试" in added.text
    assert (await Task.get(name="认证测试")).wbs_code.startswith("3.")


async def test_the_pm_adds_departments_and_moves_the_start_date_from_the_overview(http):
    """Issue 23, item 3: a project created without participating departments gets them later,
    from the page; a department with people in it cannot be dropped."""
    from datetime import date

    from server.projects.models import ProjectDepartment

    rnd = await f.department("研发部")
    ops = await f.department("生产部")
    pm = await f.user(email="pm@example.com", dept=rnd)
    project = await f.project(pm, code="X2", departments=[])
    await log_in(http, "pm@example.com")
    page = await http.get("/projects/X2")
    assert 'name="department_ids"' in page.text and 'name="start_date"' in page.text
    saved = await post(
        http,
        "/projects/X2",
        {
            "version": str(project.version),
            "name": project.name,
            "start_date": "2027-01-04",
            "departments_sent": "1",
            "department_ids": [str(ops.id)],
        },
    )
    assert saved.status_code in (200, 303)
    project = await Project.get(id=project.id)
    assert project.start_date == date(2027, 1, 4)
    taking_part = set(
        await ProjectDepartment.filter(project_id=project.id).values_list(
            "department_id", flat=True
        )
    )
    assert ops.id in taking_part and project.initiating_department_id in taking_part


async def test_the_pm_hands_a_departments_liaison_role_over_from_the_team_page(http):
    """Issue 23, item 3: the refusal to add a second liaison suggests replacing; the team
    page now has that action (and GraphQL `replaceLiaison`)."""
    from schema.common import to_global_id
    from server.projects.models import ProjectMember
    from tests.schema.test_graphql import gql, token_for

    rnd = await f.department("研发部")
    pm = await f.user(email="pm@example.com", dept=rnd)
    project = await f.project(pm, code="X3", departments=[rnd])
    old = await f.user(name="孙浩", dept=rnd, email="old@example.com")
    new = await f.user(name="李娜", dept=rnd)
    third = await f.user(name="周强", dept=rnd)
    await f.member(pm, project, old, Role.LIAISON, rnd)
    await log_in(http, "old@example.com")
    assert 'class="replace-liaison"' not in (await http.get("/projects/X3/team")).text
    await log_in(http, "pm@example.com")
    page = await http.get("/projects/X3/team")
    assert 'class="replace-liaison"' in page.text
    swapped = await post(
        http, f"/projects/X3/team/liaisons/{rnd.id}", {"user_id": str(new.id)}, htmx=True
    )
    assert swapped.status_code == 200 and "李娜" in swapped.text
    liaisons = await ProjectMember.filter(project_id=project.id, role=Role.LIAISON)
    assert {(m.user_id, m.left_at is None) for m in liaisons} == {(old.id, False), (new.id, True)}
    answer = await gql(
        http,
        await token_for(pm),
        """mutation($input: ReplaceLiaisonInput!) { replaceLiaison(input: $input) {
          member { user { name } role } errors { code } } }""",
        {
            "input": {
                "projectId": to_global_id("Project", project.id),
                "departmentId": to_global_id("Department", rnd.id),
                "userId": to_global_id("User", third.id),
            }
        },
    )
    assert answer.json()["data"]["replaceLiaison"] == {
        "member": {"user": {"name": "周强"}, "role": "LIAISON"},
        "errors": [],
    }
