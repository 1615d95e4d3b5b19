"""The demo company: five departments launching a new product together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server import clock
from server.auth import Actor
from server.meetings import service as meetings
from server.org import service as org
from server.org.models import User
from server.planning import company_calendar as planning_company_calendar
from server.planning import service as planning
from server.progress import snapshots
from server.projects import chat_robots
from server.projects import service as projects
from server.projects.models import Project, Role
from server.risks import register as risk_register

DEMO_PASSWORD = "xietong-demo"  # noqa: S105 - the published demo login

DEPARTMENTS = ["研发部", "市场部", "生产部", "销售部", "客服部"]

# (name, department, position, email or None, mobile, role in the project)
PEOPLE: list[tuple[str, str, str, str | None, str, Role | None]] = [
    ("王芳", "市场部", "产品经理", "wangfang@example.com", "13800000001", Role.MANAGER),
    ("张伟", "研发部", "研发部经理", "zhangwei@example.com", "13800000011", Role.DEPARTMENT_HEAD),
    ("孙浩", "研发部", "硬件工程师", "sunhao@example.com", "13800000012", Role.LIAISON),
    ("李娜", "市场部", "市场部总监", "lina@example.com", "13800000021", Role.DEPARTMENT_HEAD),
    ("周敏", "市场部", "市场专员", "zhoumin@example.com", "13800000022", Role.LIAISON),
    ("刘强", "生产部", "生产部经理", "liuqiang@example.com", "13800000031", Role.DEPARTMENT_HEAD),
    ("吴刚", "生产部", "车间主任", None, "13800000032", Role.LIAISON),
    ("陈静", "销售部", "销售部经理", "chenjing@example.com", "13800000041", Role.DEPARTMENT_HEAD),
    ("郑丽", "销售部", "渠道主管", "zhengli@example.com", "13800000042", Role.LIAISON),
    ("赵磊", "客服部", "客服部经理", "zhaolei@example.com", "13800000051", Role.DEPARTMENT_HEAD),
    ("冯涛", "客服部", "客服主管", "fengtao@example.com", "13800000052", Role.LIAISON),
    ("黄建国", "市场部", "副总经理", "huangjianguo@example.com", "13800000061", Role.MANAGEMENT),
]

RESPONSIBILITIES = {
    Role.MANAGER: "统筹项目计划、主持周例会、跟踪进度并协调跨部门问题",
    Role.DEPARTMENT_HEAD: "签署项目章程与协作确认书，保障本部门资源投入",
    Role.LIAISON: "对接本部门任务，每日更新进度，提交周例会部门汇报",
    Role.MANAGEMENT: "审批资源缺口与重大变更，接收最高级别升级",
}

PROJECT = projects.ProjectInput(
    code="X1-LAUNCH",
    name="智能保温杯 X1 新品上市",
    start_date=date(2026, 11, 2),
    background=(
        "公司计划在 2027 年春季推出首款智能保温杯 X1，需要研发、市场、生产、销售和客服"
        "五个部门紧密协作，在三个月内完成从样机到上市的全过程。"
    ),
    goals=(
        "1. 2027 年 3 月 16 日前正式上市销售\n"
        "2. 上市首月销量不低于 20,000 件\n"
        "3. 首批量产良品率不低于 98%\n"
        "4. 上市首月客户投诉率低于 0.5%"
    ),
    scope=(
        "范围内：X1 硬件与 App 联调、包装设计、首批 30,000 件量产、线上线下渠道铺货、"
        "客服知识库与售后流程。\n"
        "范围外：海外市场、X1 Pro 型号、企业定制款。"
    ),
    success_criteria=(
        "按期上市；首月销量 ≥ 20,000 件；良品率 ≥ 98%；投诉率 < 0.5%；项目总预算不超过 350 万元。"
    ),
)

MILESTONES = [
    ("需求冻结", date(2026, 11, 27), "需求清单（已签署）"),
    ("原型评审通过", date(2026, 12, 18), "原型评审纪要"),
    ("试生产完成", date(2027, 1, 29), "试产报告与良品率数据"),
    ("渠道铺货完成", date(2027, 3, 5), "铺货清单"),
    # Driven by the work before it rather than pinned: its date is the plan's forecast.
    ("正式上市", date(2026, 11, 2), "上市发布会"),
]


# Phases of the plan: (phase, [(task, department, working days, deliverable)]).
PLAN: list[tuple[str, list[tuple[str, str, int, str]]]] = [
    (
        "需求调研",
        [
            ("用户访谈与竞品分析", "市场部", 5, "访谈纪要、竞品对比表"),
            ("需求清单整理", "研发部", 3, "需求清单"),
        ],
    ),
    (
        "原型设计",
        [
            ("工业设计与结构设计", "研发部", 10, "结构图纸"),
            ("包装设计", "市场部", 8, "包装设计稿"),
        ],
    ),
    (
        "开发测试",
        [
            ("硬件开发", "研发部", 25, "工程样机"),
            ("App 联调测试", "研发部", 15, "测试报告"),
        ],
    ),
    (
        "试生产",
        [
            ("试产线调试", "生产部", 8, "产线验收单"),
            ("首批试产", "生产部", 12, "试产报告"),
        ],
    ),
    (
        "上市准备",
        [
            ("渠道铺货", "销售部", 15, "铺货清单"),
            ("客服培训", "客服部", 5, "客服知识库"),
            ("上市发布会", "市场部", 3, "发布会"),
        ],
    ),
]
# (predecessor, successor, type, lag) by task name.
LINKS = [
    ("用户访谈与竞品分析", "需求清单整理", "FS", 0),
    ("需求清单整理", "工业设计与结构设计", "FS", 0),
    ("工业设计与结构设计", "包装设计", "SS", 2),
    ("工业设计与结构设计", "硬件开发", "FS", 0),
    ("硬件开发", "App 联调测试", "FS", 0),
    ("App 联调测试", "试产线调试", "FS", 0),
    ("试产线调试", "首批试产", "FS", 0),
    ("首批试产", "渠道铺货", "FS", 0),
    ("首批试产", "客服培训", "SS", 3),
    ("渠道铺货", "上市发布会", "FS", 0),
    ("客服培训", "上市发布会", "FS", 0),
    ("需求清单整理", "需求冻结", "FS", 0),
    ("工业设计与结构设计", "原型评审通过", "FS", 0),
    ("首批试产", "试生产完成", "FS", 0),
    ("渠道铺货", "渠道铺货完成", "FS", 0),
    ("上市发布会", "正式上市", "FS", 0),
]


async def _load_plan(pm: Actor, project_id: int, liaisons: dict[str, User]) -> dict[str, int]:
    departments = {d.name: d.id for d in await org.list_departments(pm)}
    tasks: dict[str, int] = {}
    for phase_name, steps in PLAN:
        phase = await planning.create_task(
            pm,
            project_id=project_id,
            data=planning.TaskInput(name=phase_name, planned_start=PROJECT.start_date),
        )
        for name, department, days, deliverable in steps:
            task = await planning.create_task(
                pm,
                project_id=project_id,
                data=planning.TaskInput(
                    name=name,
                    planned_start=PROJECT.start_date,
                    duration_days=days,
                    parent_id=phase.id,
                    owner_id=liaisons[department].id,
                    department_id=departments[department],
                    deliverable=deliverable,
                ),
            )
            tasks[name] = task.id
    for name, due, deliverable in MILESTONES:
        milestone = await planning.add_milestone(
            pm, project_id=project_id, name=name, due=due, deliverable=deliverable
        )
        tasks[name] = milestone.id
    for predecessor, successor, link_type, lag in LINKS:
        await planning.add_dependency(
            pm,
            predecessor_id=tasks[predecessor],
            successor_id=tasks[successor],
            type=link_type,
            lag_days=lag,
        )
    return tasks


# (title, category, department, probability, impact, strategy, measures, threatened task)
RISKS = [
    (
        "保温涂层供应商产能不足",
        "RESOURCE",
        "生产部",
        3,
        5,
        "MITIGATE",
        "与第二家供应商签订备选协议，提前锁定首批涂层材料",
        "首批试产",
    ),
    (
        "App 蓝牙连接兼容性问题",
        "QUALITY",
        "研发部",
        3,
        3,
        "MITIGATE",
        "扩大真机测试覆盖到 30 款主流机型",
        "App 联调测试",
    ),
    (
        "竞品提前降价",
        "EXTERNAL",
        "市场部",
        2,
        4,
        "ACCEPT",
        "准备首发赠品方案，上市前两周复核定价",
        None,
    ),
    ("包装设计返工", "SCHEDULE", "市场部", 2, 2, "AVOID", "设计稿先经销售部确认", "包装设计"),
]


async def _load_risks(project: Project, tasks: dict[str, int], liaisons: dict[str, User]) -> None:
    """Four risks from the liaisons, one of them high and due for review today."""
    departments = {d.name: d.id for d in await org.list_departments(Actor.system())}
    today = clock.today_in(project.time_zone)
    for title, category, department, p, i, strategy, measures, task in RISKS:
        await risk_register.raise_risk(
            Actor.for_user(liaisons[department]),
            project_id=project.id,
            data=risk_register.RiskInput(
                title=title,
                category=category,
                department_id=departments[department],
                probability=p,
                impact=i,
                strategy=strategy,
                measures=measures,
                review_date=today if p * i >= 15 else today + timedelta(days=7),
                task_ids=[tasks[task]] if task else [],
            ),
        )


@dataclass
class DemoResult:
    loaded: bool
    logins: list[tuple[str, str]] = field(default_factory=list)


async def _load_meetings(pm: Actor, project: Project, rnd_id: int, rnd_liaison: User) -> None:
    """A weekly meeting every Monday at 10:00 for eight weeks; R&D has already reported."""
    zone = ZoneInfo(project.time_zone)
    today = clock.today_in(project.time_zone)
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    first = await meetings.create_meeting(
        pm,
        project_id=project.id,
        data=meetings.MeetingInput(
            kind="WEEKLY",
            title="X1 项目周例会",
            scheduled_start=datetime.combine(monday, time(10, 0), tzinfo=zone),
            duration_minutes=45,
            place="3 号会议室 / 线上会议",
            agenda=[
                meetings.AgendaInput(title="上周行动项回顾", minutes=10),
                meetings.AgendaInput(title="各部门汇报", minutes=25),
                meetings.AgendaInput(title="问题与决议", minutes=10),
            ],
            repeat_weeks=8,
        ),
    )
    await meetings.submit_department_report(
        Actor.for_user(rnd_liaison),
        meeting_id=first.id,
        data=meetings.ReportInput(
            department_id=rnd_id,
            done="完成工业设计评审，样机结构定稿",
            next_week="开模前结构评审，准备首批样机",
            needs=[],
        ),
    )


async def load_demo() -> DemoResult:
    """Load the demo into an empty database; with data already there, change nothing."""
    if await User.exists():
        return DemoResult(loaded=False)
    await planning_company_calendar.seed_company_calendar()
    system = Actor.system()
    departments = {name: await org.create_department(system, name=name) for name in DEPARTMENTS}
    admin = await org.create_user(
        system,
        name="系统管理员",
        email="admin@example.com",
        department_id=departments["研发部"].id,
        password=DEMO_PASSWORD,
        position="IT 管理员",
        is_admin=True,
    )
    people: list[tuple[User, str, Role | None]] = []
    for name, department, position, email, mobile, role in PEOPLE:
        user = await org.create_user(
            system,
            name=name,
            email=email,
            mobile=mobile,
            department_id=departments[department].id,
            password=DEMO_PASSWORD,
            position=position,
            heads_department=role == Role.DEPARTMENT_HEAD,
        )
        people.append((user, department, role))

    manager = people[0][0]
    pm = Actor.for_user(manager)
    PROJECT.initiating_department_id = departments["市场部"].id
    PROJECT.department_ids = [d.id for d in departments.values()]
    project = await projects.create_project(pm, PROJECT)
    await projects.update_project(
        pm,
        project_id=project.id,
        version=project.version,
        data=projects.ProjectInput(late_threshold_days=2),
    )
    for user, department, role in people[1:]:
        assert role is not None
        if role == Role.DEPARTMENT_HEAD:
            continue  # seated from the org chart when their department joined
        await projects.add_project_member(
            pm,
            projects.MemberInput(
                project_id=project.id,
                user_id=user.id,
                role=role,
                department_id=departments[department].id,
                responsibilities=RESPONSIBILITIES.get(role, ""),
                time_commitment="50%" if role == Role.LIAISON else "10%",
            ),
        )
    liaisons = {dept: user for user, dept, role in people if role == Role.LIAISON}
    tasks = await _load_plan(pm, project.id, liaisons)
    await _load_risks(project, tasks, liaisons)
    await _load_meetings(pm, project, departments["研发部"].id, liaisons["研发部"])
    # The project's group chat, kept on the mailbox page: mentions and escalations show there
    # with the people they @, so those without email are seen to be reached.
    await chat_robots.add_robot(
        system,
        chat_robots.RobotInput(
            kind="LOCAL", name="X1 项目群（演示）", url="", project_code=project.code
        ),
    )
    # The tracking chart has its first point at once, not after the first nightly run.
    await snapshots.take_snapshots(project_code=project.code)
    logins = [(admin.email or "", "系统管理员")]
    logins += [
        (u.email or u.mobile or "", f"{u.name}（{d} · {r.value if r else ''}）")
        for u, d, r in people[:5]
    ]
    return DemoResult(loaded=True, logins=logins)
