"""A signed document checks itself on every read: a body changed behind the application's
back, with or without its hash and the signatures' hashes, never reads as signed."""

from __future__ import annotations

import asyncio
import json
import os
from asyncio.subprocess import PIPE

from tortoise import connections

from server.audit.models import AuditEntry
from server.notices.models import Notice
from server.signoffs import content
from server.signoffs import queries as signoff_queries
from server.signoffs.integrity import alert_integrity_findings, verify_all_documents
from server.signoffs.models import (
    DocumentKind,
    DocumentStatus,
    DocumentVersion,
    SignableDocument,
    Signature,
)
from tests import factories as f
from tests.schema.test_graphql import gql, token_for
from tests.server.test_signoffs import charter_in_signing, setup_project, sign
from tests.test_cli import XIETONG
from tests.views.helpers import log_in


async def xietong_verify() -> tuple[int, str, str]:
    """The command an operator runs, against the database the tests use."""
    process = await asyncio.create_subprocess_exec(
        XIETONG, "verify", env=dict(os.environ), stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def signed_charter():
    s = await setup_project()
    document = await charter_in_signing(s)
    for head in s.heads.values():
        await sign(head, document)
    document = await SignableDocument.get(id=document.id)
    assert document.status == DocumentStatus.SIGNED
    return s, document


async def tamper(sql: str, *values: object) -> None:
    """What someone with database access would do; the application is not asked."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        for i in range(len(values)):
            sql = sql.replace("?", f"${i + 1}", 1)
    await connection.execute_query(sql, list(values))


async def change_background(document: SignableDocument, *, rehash: bool) -> DocumentVersion:
    version = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    body = dict(version.body)
    body["background"] = body.get("background", "") + " 预算改为 0 元"
    new_hash = content.content_hash(document.id, version.number, body)
    if rehash:
        await tamper(
            "UPDATE document_version SET body = ?, content_hash = ? WHERE id = ?",
            json.dumps(body, ensure_ascii=False),
            new_hash,
            version.id,
        )
    else:
        await tamper(
            "UPDATE document_version SET body = ? WHERE id = ?",
            json.dumps(body, ensure_ascii=False),
            version.id,
        )
    return await DocumentVersion.get(id=version.id)


async def state_of(s, document):
    row = await SignableDocument.get(id=document.id)
    return await signoff_queries.document_state(f.actor(s.pm), row)


async def test_an_untouched_signed_charter_verifies(db):
    s, document = await signed_charter()
    state = await state_of(s, document)
    assert state.integrity_ok and state.is_fully_signed
    assert all(v.integrity_ok for v in state.signatures)
    report = await verify_all_documents(f.system())
    assert report.findings == [] and report.signatures == 3


async def test_a_changed_body_is_flagged_and_its_signatures_stop_counting(db):
    s, document = await signed_charter()
    await change_background(document, rehash=False)
    state = await state_of(s, document)
    assert not state.integrity_ok
    assert not state.is_fully_signed
    assert {d.name for d in state.missing} == {"市场部", "研发部", "生产部"}
    assert not any(v.integrity_ok for v in state.signatures)


async def test_body_and_hash_changed_together_is_flagged(db):
    s, document = await signed_charter()
    await change_background(document, rehash=True)
    state = await state_of(s, document)
    assert not state.integrity_ok and not state.is_fully_signed


async def test_body_hash_and_signature_hashes_changed_together_fail_the_seal(db):
    s, document = await signed_charter()
    version = await change_background(document, rehash=True)
    await tamper("UPDATE signature SET content_hash = ?", version.content_hash)
    state = await state_of(s, document)
    assert not state.integrity_ok
    assert [v.integrity_ok for v in state.signatures] == [False, False, False]
    # A seal copied from another signature does not fit this one either.
    first, second = await Signature.filter(document_id=document.id).order_by("id").limit(2)
    await tamper("UPDATE signature SET seal = ? WHERE id = ?", first.seal, second.id)
    assert not (await state_of(s, document)).integrity_ok


async def test_graphql_page_and_exports_show_the_failure(db, http):
    s, document = await signed_charter()
    token = await token_for(s.pm)
    query = """query($id: ID!) { project(id: $id) { charter { status isFullySigned integrityOk
        signatures { department { name } integrityOk } } } }"""
    from schema.common import to_global_id

    variables = {"id": to_global_id("Project", s.project.id)}
    before = (await gql(http, token, query, variables)).json()["data"]["project"]["charter"]
    assert before["integrityOk"] and before["isFullySigned"]
    await change_background(document, rehash=True)
    after = (await gql(http, token, query, variables)).json()["data"]["project"]["charter"]
    assert after["integrityOk"] is False and after["isFullySigned"] is False
    assert {x["integrityOk"] for x in after["signatures"]} == {False}

    await log_in(http, s.pm.email)
    code = s.project.code
    page = await http.get(f"/projects/{code}/charter")
    assert "完整性校验失败" in page.text
    overview = await http.get(f"/projects/{code}")
    assert "完整性校验失败" in overview.text
    markdown = await http.get(f"/projects/{code}/charter.md")
    assert "完整性校验失败" in markdown.text
    docx = await http.get(f"/projects/{code}/charter.docx")
    assert docx.status_code == 200
    from io import BytesIO

    from docx import Document

    text = "\n".join(p.text for p in Document(BytesIO(docx.content)).paragraphs)
    assert "完整性校验失败" in text


async def test_verify_alerts_the_administrators_once_and_the_command_fails(db):
    admin = await f.user(is_admin=True)
    s, document = await signed_charter()
    code, out, err = await xietong_verify()
    assert code == 0, err
    assert "0 with an integrity failure" in out

    await change_background(document, rehash=False)
    code, out, err = await xietong_verify()
    assert code != 0
    assert s.project.code in out and "integrity" in err

    # Checked again (the daily job): the same finding is not told twice.
    report = await verify_all_documents(f.system())
    await alert_integrity_findings(report.findings)
    alerts = await Notice.filter(recipient_id=admin.id, dedup_key__startswith="integrity:")
    assert len(alerts) == 1
    assert await AuditEntry.filter(action="document.integrity_failed").count() == 2


async def test_a_version_slipped_in_behind_the_signatures_is_flagged(db):
    s, document = await signed_charter()
    version = await DocumentVersion.get(document_id=document.id, number=1)
    body = dict(version.body) | {"background": "偷偷加的新版本"}
    await DocumentVersion.create(
        document_id=document.id,
        number=2,
        number_slot=f"{document.id}:2-forged",
        body=body,
        content_hash=content.content_hash(document.id, 2, body),
        submitted_at=version.submitted_at,
    )  # as someone with database access would insert it
    await tamper("UPDATE signable_document SET current_number = 2 WHERE id = ?", document.id)
    state = await state_of(s, document)
    assert not state.integrity_ok and not state.is_fully_signed
    report = await verify_all_documents(f.system())
    assert [sorted(x.altered_versions) for x in report.findings] == [[2]]


async def test_a_signature_moved_to_another_document_fails_without_breaking_the_check(db):
    s, document = await signed_charter()
    other = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.COLLABORATION_CONFIRMATION
    )
    first = await Signature.filter(document_id=document.id).order_by("id").first()
    await tamper("UPDATE signature SET document_id = ? WHERE id = ?", other.id, first.id)
    moved = await signoff_queries.document_state(
        f.actor(s.pm), await SignableDocument.get(id=other.id)
    )
    assert not moved.integrity_ok
    report = await verify_all_documents(f.system())  # does not stop at the stray row
    assert other.id in {x.document.id for x in report.findings}
