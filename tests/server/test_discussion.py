"""Comments with @mentions and attachments: who may write, the 15-minute edit window,
withdrawal kept in the audit log, each mentioned person told once, files kept by content
hash with their type read from the bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image

from server import clock, mentions
from server.audit.models import AuditEntry
from server.discussion import files, stores
from server.discussion import service as discussion
from server.discussion.models import Attachment, Comment, SubjectKind
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.notices.models import Channel, Notice
from server.org.models import Department, User
from server.planning import service as planning
from server.planning.models import Task
from server.projects import chat_robots
from server.projects.chat_robots import RobotInput
from server.projects.models import Project, Role
from server.settings import get_settings, reset_settings
from tests import factories as f

MONDAY = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def on_monday():
    with clock.travel_to(MONDAY):
        yield


# --- mentions, pure -----------------------------------------------------------------------------


def test_a_typed_name_becomes_a_mention_and_the_longest_name_wins():
    people = {"张伟": 1, "张伟明": 2, "Li Na": 3}
    body = mentions.link_plain_mentions("@张伟明 和 @张伟：请看。邮件 a@张伟.com 不算", people)
    assert body == "@[张伟明](user:2) 和 @[张伟](user:1)：请看。邮件 a@张伟.com 不算"
    assert [m.user_id for m in mentions.mentioned(body)] == [2, 1]
    assert mentions.link_plain_mentions("@[张伟](user:1) @Li Na", people) == (
        "@[张伟](user:1) @[Li Na](user:3)"
    )
    assert mentions.link_plain_mentions("@王五 不是成员", people) == "@王五 不是成员"


def test_a_comment_is_escaped_and_its_mentions_highlighted():
    html = str(mentions.as_html("<b>hi</b> @[张<i>伟](user:1)"))
    assert html == '&lt;b&gt;hi&lt;/b&gt; <span class="mention">@张&lt;i&gt;伟</span>'
    assert mentions.as_text("@[张伟](user:1) 请看") == "@张伟 请看"


# --- a team -------------------------------------------------------------------------------------


@dataclass
class Team:
    project: Project
    rnd: Department
    pm: User
    liaison: User
    member: User
    no_email: User
    viewer: User
    task: Task


async def team() -> Team:
    rnd = await f.department("研发部")
    pm = await f.user(name="王芳")
    project = await f.project(pm, departments=[rnd], code="TALK")
    liaison = await f.user(name="李娜", dept=rnd, mobile="13800000001")
    member = await f.user(name="孙浩", dept=rnd)
    no_email = await f.user(name="老陈", dept=rnd, email="", mobile="13800000009")
    viewer = await f.user(name="看客", dept=rnd)
    await f.member(pm, project, liaison, Role.LIAISON, rnd)
    await f.member(pm, project, member, Role.MEMBER, rnd)
    await f.member(pm, project, no_email, Role.MEMBER, rnd)
    await f.member(pm, project, viewer, Role.VIEWER, rnd)
    task = await planning.create_task(
        f.actor(pm),
        project_id=project.id,
        data=planning.TaskInput(
            name="模具开发", planned_start=date(2026, 12, 7), duration_days=5, department_id=rnd.id
        ),
    )
    return Team(project, rnd, pm, liaison, member, no_email, viewer, task)


async def on_task(t: Team, who: User) -> discussion.Subject:
    return await discussion.get_subject(f.actor(who), kind=SubjectKind.TASK, subject_id=t.task.id)


async def mention_notices() -> list[Notice]:
    return await Notice.filter(dedup_key__startswith="mention:").order_by("id")


# --- comments -----------------------------------------------------------------------------------


async def test_a_mentioned_colleague_is_told_once_by_mail_and_in_the_group_chat(db):
    t = await team()
    await chat_robots.add_robot(
        f.system(),
        RobotInput(
            kind="DINGTALK", name="项目群", url="http://127.0.0.1:9/x", project_code=t.project.code
        ),
    )
    subject = await on_task(t, t.member)
    comment = await discussion.add_comment(
        f.actor(t.member), subject=subject, body="@李娜 模具图纸到了吗？@老陈 也看一下 @孙浩"
    )
    assert comment.body == (
        f"@[李娜](user:{t.liaison.id}) 模具图纸到了吗？@[老陈](user:{t.no_email.id}) 也看一下 "
        f"@[孙浩](user:{t.member.id})"
    )
    assert comment.mentions == [t.liaison.id, t.no_email.id, t.member.id]
    sent = await mention_notices()
    mails = [n for n in sent if n.channel == Channel.EMAIL]
    chats = [n for n in sent if n.channel == Channel.WEBHOOK]
    # The author is not told of their own mention; 老陈 has no email and hears it in the chat.
    assert [n.recipient_id for n in mails] == [t.liaison.id]
    assert "孙浩" in mails[0].subject and "模具开发" in mails[0].subject
    assert f"/projects/TALK/tasks/{t.task.id}#comment-{comment.id}" in mails[0].body
    assert "@李娜 模具图纸到了吗？" in mails[0].body
    assert len(chats) == 1 and sorted(chats[0].mentions) == ["13800000001", "13800000009"]
    assert await AuditEntry.filter(action="comment.add", object_id=comment.id).exists()

    # An edit that adds a person tells only that person; the others were told already.
    await discussion.edit_comment(
        f.actor(t.member),
        comment_id=comment.id,
        version=1,
        body="@李娜 @老陈 @王芳 模具图纸到了吗？",
    )
    again = await mention_notices()
    new = [n for n in again if n.id not in {m.id for m in sent}]
    assert [(n.channel, n.recipient_id) for n in new] == [(Channel.EMAIL, t.pm.id)]


async def test_a_comment_is_edited_for_fifteen_minutes_then_only_withdrawn(db):
    t = await team()
    subject = await on_task(t, t.member)
    comment = await discussion.add_comment(f.actor(t.member), subject=subject, body="第一版")
    with clock.travel_to(MONDAY + timedelta(minutes=15, seconds=1)):
        with pytest.raises(Invalid) as refused:
            await discussion.edit_comment(
                f.actor(t.member), comment_id=comment.id, version=1, body="改了"
            )
        assert refused.value.field == "body"
        assert (await Comment.get(id=comment.id)).body == "第一版"
        withdrawn = await discussion.withdraw_comment(
            f.actor(t.member), comment_id=comment.id, version=1
        )
    assert withdrawn.withdrawn_at is not None and withdrawn.version == 2
    thread = await discussion.get_thread(f.actor(t.pm), subject=subject)
    assert [c.withdrawn_at is not None for c in thread.comments] == [True]
    # The words stay where whoever asks later can find them.
    entry = await AuditEntry.get(action="comment.withdraw", object_id=comment.id)
    assert entry.before["body"] == "第一版"


async def test_only_the_author_changes_a_comment_and_a_stale_version_is_a_conflict(db):
    t = await team()
    subject = await on_task(t, t.member)
    comment = await discussion.add_comment(f.actor(t.member), subject=subject, body="进度正常")
    with pytest.raises(Forbidden):
        await discussion.edit_comment(f.actor(t.pm), comment_id=comment.id, version=1, body="x")
    with pytest.raises(Forbidden):
        await discussion.withdraw_comment(f.actor(t.liaison), comment_id=comment.id, version=1)
    await discussion.edit_comment(f.actor(t.member), comment_id=comment.id, version=1, body="新")
    with pytest.raises(Conflict) as stale:
        await discussion.edit_comment(
            f.actor(t.member), comment_id=comment.id, version=1, body="旧"
        )
    assert stale.value.field == "version"
    assert (await Comment.get(id=comment.id)).body == "新"


async def test_refusals_name_their_field_and_write_nothing(db):
    t = await team()
    outsider = await f.user(name="外人")
    subject = await on_task(t, t.member)
    with pytest.raises(Forbidden):  # viewers read the discussion only
        await discussion.add_comment(f.actor(t.viewer), subject=subject, body="我也说一句")
    with pytest.raises(NotFound):  # someone else's project looks like nothing at all
        await on_task(t, outsider)
    with pytest.raises(Invalid) as not_on_team:
        await discussion.add_comment(
            f.actor(t.member), subject=subject, body=f"@[外人](user:{outsider.id}) 帮忙看看"
        )
    assert not_on_team.value.field == "body" and "外人" in not_on_team.value.translated("zh-CN")
    with pytest.raises(Invalid) as empty:
        await discussion.add_comment(f.actor(t.member), subject=subject, body="   ")
    assert empty.value.field == "body"
    assert await Comment.all().count() == 0
    assert await mention_notices() == []
    assert not await AuditEntry.filter(object_type="comment").exists()


async def test_a_subject_of_another_kind_or_project_is_not_found(db):
    t = await team()
    with pytest.raises(NotFound):
        await discussion.get_subject(f.actor(t.pm), kind=SubjectKind.RISK, subject_id=t.task.id)
    with pytest.raises(Invalid):
        discussion.subject_kind("invoice")


# --- attachments --------------------------------------------------------------------------------


def photo(width: int, height: int, fmt: str = "JPEG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


async def test_a_photo_is_kept_once_by_content_hash_with_a_smaller_copy_for_pages(db):
    t = await team()
    subject = await on_task(t, t.liaison)
    data = photo(3000, 2000)
    first = await discussion.add_attachment(
        f.actor(t.liaison), subject=subject, file_name="IMG_0001.txt", data=data
    )
    # The type comes from the bytes, not from the name.
    assert first.content_type == "image/jpeg" and first.has_preview and first.size == len(data)
    root = get_settings().data_dir
    folder = stores.FolderStore(root / "attachments")
    stored = folder.path(first.sha256)
    assert stored.read_bytes() == data
    with Image.open(folder.path(first.sha256, preview=True)) as small:
        assert max(small.size) == files.PREVIEW_EDGE
    second = await discussion.add_attachment(
        f.actor(t.member), subject=subject, file_name="again.jpg", data=data
    )
    assert second.sha256 == first.sha256
    kept = sorted(p.name for p in stored.parent.glob(first.sha256 + "*"))
    assert kept == [first.sha256, f"{first.sha256}.preview.jpg"]
    thread = await discussion.get_thread(f.actor(t.pm), subject=subject)
    assert [a.file_name for a in thread.attachments] == ["IMG_0001.txt", "again.jpg"]
    assert await AuditEntry.filter(action="attachment.add").count() == 2


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("report.pdf", b"<html><script>alert(1)</script></html>", "cannot be attached"),
        ("setup.jpg", b"MZ\x90\x00" + bytes(200), "cannot be attached"),
        ("empty.png", b"", "Choose a file"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "cannot be read"),
    ],
)
async def test_a_file_we_do_not_take_is_refused_on_the_file_field(db, name, data, why):
    t = await team()
    subject = await on_task(t, t.liaison)
    with pytest.raises(Invalid) as refused:
        await discussion.add_attachment(
            f.actor(t.liaison), subject=subject, file_name=name, data=data
        )
    assert refused.value.field == "file"
    assert why in refused.value.translated("en")
    assert await Attachment.all().count() == 0


async def test_a_file_over_the_limit_is_refused_and_a_viewer_attaches_nothing(db, monkeypatch):
    t = await team()
    subject = await on_task(t, t.liaison)
    monkeypatch.setenv("XIETONG_ATTACHMENT_MAX_MB", "1")
    reset_settings()
    try:
        with pytest.raises(Invalid) as too_big:
            await discussion.add_attachment(
                f.actor(t.liaison), subject=subject, file_name="a.txt", data=b"x" * (2**20 + 1)
            )
    finally:
        monkeypatch.delenv("XIETONG_ATTACHMENT_MAX_MB")
        reset_settings()
    assert too_big.value.field == "file" and "at most 1 MB" in too_big.value.translated("en")
    with pytest.raises(Forbidden):
        await discussion.add_attachment(
            f.actor(t.viewer), subject=subject, file_name="a.txt", data=b"notes"
        )
    assert await Attachment.all().count() == 0


async def test_an_attachment_is_found_only_by_people_of_its_project(db):
    t = await team()
    subject = await on_task(t, t.liaison)
    kept = await discussion.add_attachment(
        f.actor(t.liaison), subject=subject, file_name="notes.txt", data="会议记录".encode()
    )
    assert kept.content_type == "text/plain"
    assert (await discussion.get_attachment(f.actor(t.viewer), attachment_id=kept.id)).id == kept.id
    with pytest.raises(NotFound):
        await discussion.get_attachment(f.actor(await f.user()), attachment_id=kept.id)


async def test_attachments_can_live_in_an_s3_compatible_object_store(db, monkeypatch):
    """Several servers share one bucket: here a real S3 API (moto's server) on this machine."""
    import boto3
    from moto.server import ThreadedMotoServer

    from tests.conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "XIETONG_ATTACHMENT_STORE": "s3://xietong-files/attachments",
        "XIETONG_S3_ENDPOINT": endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    try:
        bucket = boto3.client("s3", endpoint_url=endpoint)
        bucket.create_bucket(Bucket="xietong-files")
        t = await team()
        subject = await on_task(t, t.liaison)
        data = photo(2000, 1000)
        kept = await discussion.add_attachment(
            f.actor(t.liaison), subject=subject, file_name="现场.jpg", data=data
        )
        key = f"attachments/{kept.sha256[:2]}/{kept.sha256}"
        assert bucket.get_object(Bucket="xietong-files", Key=key)["Body"].read() == data
        assert discussion.local_file(kept) is None
        assert await discussion.read_attachment(kept) == data
        small = await discussion.read_attachment(kept, preview=True)
        with Image.open(io.BytesIO(small)) as shown:
            assert shown.size == (1280, 640)
        assert not (get_settings().data_dir / "attachments" / key.split("/", 1)[1]).exists()
    finally:
        monkeypatch.delenv("XIETONG_ATTACHMENT_STORE")
        reset_settings()
        server.stop()
