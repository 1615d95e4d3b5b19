"""Every mail and chat template has its subject alone on the first line, and renders a
subject and a body in both languages.

The template environment trims the newline after a block tag, so a first line that ends
with `{% endif %}` must be followed by an empty line, or the greeting joins the subject.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from server.templating import render

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MESSAGES = sorted(
    p
    for folder in ("emails", "chat")
    for p in (TEMPLATES / folder).glob("*.txt")
    if not p.name.startswith("_")
)


@pytest.mark.parametrize("path", MESSAGES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_subject_line_stands_alone(path: Path) -> None:
    first, second = path.read_text(encoding="utf-8").split("\n")[:2]
    if first.rstrip().endswith("%}"):
        assert second.strip() == "", f"{path.name}: the block tag eats the subject's line end"


# --- every message rendered in both languages ---------------------------------------------------

P = SimpleNamespace
PROJECT = P(code="X1", name="智能保温杯 X1 新品上市", time_zone="Asia/Shanghai")
AT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
MEETING = P(
    title="项目周例会",
    scheduled_start=AT,
    duration_minutes=45,
    place="3号会议室",
    minutes_due_at=AT,
)
DOCUMENT = P(kind="CHARTER")
SIGNATURE = P(
    department=P(name="研发部"), signer=P(name="张伟"), decision="APPROVE", comment="同意"
)
LINE = P(
    project=PROJECT,
    task=P(name="模具开发", percent_complete=40),
    days_late=2,
    due=date(2026, 12, 4),
)
TASK_SUBJECT = P(kind="task", name="模具开发", days_late=3, due=date(2026, 12, 2))
GAP = P(
    description="测试工程师 2 人\n3 个月", amount=Decimal("30000.00"), currency="CNY", gap_note="急"
)
CHANGE = P(
    code="CR-003",
    title="试产延长两天",
    reason="新模具需要多两天调试",
    cost_delta=Decimal("8000.00"),
    impact={"finishBefore": "2026-09-30", "finishAfter": "2026-10-10", "deltaWorkingDays": 2},
)
CONTEXTS: dict[str, dict[str, object]] = {
    "emails/change_approval_requested.txt": {
        "project": PROJECT,
        "request": CHANGE,
        "link": "/projects/X1/changes/3",
    },
    "emails/change_waiting.txt": {
        "project": PROJECT,
        "request": CHANGE,
        "days": 3,
        "holders": "市场负责人、生产负责人",
        "approver": False,
        "link": "/projects/X1/changes/3",
    },
    "chat/change_approval_requested.txt": {
        "project": PROJECT,
        "request": CHANGE,
        "link": "/projects/X1/changes/3",
    },
    "emails/daily_digest.txt": {
        "today": date(2026, 12, 7),
        "digest": P(late=[LINE], due_this_week=[LINE], not_updated=[LINE]),
    },
    "emails/document_outcome.txt": {
        "status": "SIGNED",
        "document": DOCUMENT,
        "project": PROJECT,
        "number": 2,
        "short_hash": "ab12cd34",
        "signatures": [SIGNATURE],
        "link": "/projects/X1/charter",
    },
    "emails/escalation.txt": {
        "subject": TASK_SUBJECT,
        "project": PROJECT,
        "level": 2,
        "owner": P(name="孙浩"),
        "slip": 2,
        "project_finish": date(2027, 3, 5),
        "moved_finish": date(2027, 3, 9),
        "path": "/projects/X1/plan",
    },
    "emails/gap_approval.txt": {"project": PROJECT, "request": GAP, "link": "http://x/decide"},
    "emails/integrity_alert.txt": {
        "document": DOCUMENT,
        "project": PROJECT,
        "finding": P(altered_versions=[2, 1], broken_signatures=1),
    },
    "emails/meeting_invitation.txt": {
        "changed": False,
        "project": PROJECT,
        "meeting": MEETING,
        "occurrences": 3,
        "path": "/projects/X1/meetings/1",
    },
    "emails/member_added.txt": {"project": PROJECT, "role": "LIAISON"},
    "emails/mention.txt": {
        "context": {
            "project": PROJECT,
            "author": "王芳",
            "subject_title": "模具开发",
            "text": "@李娜 请看",
            "link": "http://x/projects/X1/tasks/1#comment-1",
        }
    },
    "emails/minutes_late.txt": {
        "project": PROJECT,
        "meeting": MEETING,
        "level": 2,
        "path": "/projects/X1/meetings/1",
    },
    "emails/minutes_published.txt": {
        "project": PROJECT,
        "meeting": MEETING,
        "changes": ["- 旧", "+ 新"],
        "revision": P(revision=2, change_note="更正负责人", body="# 纪要"),
        "path": "/projects/X1/meetings/1",
    },
    "emails/notice_digest.txt": {
        "notices": [
            P(subject="[X1] 王芳 提到了您", body="@李娜 请看\n链接"),
            P(subject="提醒", body="签署"),
        ]
    },
    "emails/report_reminder.txt": {
        "project": PROJECT,
        "meeting": MEETING,
        "department": P(name="研发部"),
        "path": "/projects/X1/meetings/1",
    },
    "emails/signature_reminder.txt": {
        "document": DOCUMENT,
        "project": PROJECT,
        "number": 2,
        "department": P(name="研发部"),
        "short_hash": "ab12cd34",
        "link": "/projects/X1/charter/sign",
    },
    "emails/signature_requested.txt": {
        "document": DOCUMENT,
        "project": PROJECT,
        "number": 2,
        "department": P(name="研发部"),
        "short_hash": "ab12cd34",
        "link": "/projects/X1/charter/sign",
    },
    "chat/escalation.txt": {
        "subject": TASK_SUBJECT,
        "project": PROJECT,
        "level": 1,
        "owner": None,
        "slip": 0,
        "project_finish": None,
        "moved_finish": None,
        "path": "/projects/X1/plan",
    },
    "chat/gap_approval.txt": {"project": PROJECT, "request": GAP, "link": "http://x/decide"},
    "chat/mention.txt": {
        "project": PROJECT,
        "author": "王芳",
        "names": "李娜",
        "subject_title": "模具开发",
        "text": "@李娜 请看",
        "link": "http://x/projects/X1/tasks/1#comment-1",
    },
}


def test_every_message_has_a_rendering_case():
    names = {f"{p.parent.name}/{p.name}" for p in MESSAGES}
    assert names == set(CONTEXTS)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_every_message_renders_a_subject_line_and_a_body(name: str, language: str) -> None:
    recipient = P(name="李娜")
    text = render(name, language, recipient=recipient, base_url="http://x", **CONTEXTS[name])
    subject, _, body = text.strip().partition("\n")
    assert subject.strip() and len(subject) < 200 and "{{" not in text and "{%" not in text
    assert body.strip(), name
    if name.startswith("emails/"):
        greeting = "李娜，您好：" if language == "zh-CN" else "Hello 李娜,"
        assert greeting in body and greeting not in subject
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in subject.replace("李娜", ""))
    if language == "en":
        # Only names and titles from the data may be Chinese in an English subject.
        assert "您好" not in text and "请" not in subject.replace("请看", "")
    else:
        assert chinese, subject
