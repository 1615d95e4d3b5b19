from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.audit.models import AuditEntry
from server.errors import Conflict, Forbidden, Invalid
from server.notices.models import Notice
from server.projects import service as projects
from server.projects.models import Project, Role
from server.signoffs import content
from server.signoffs import queries as signoff_queries
from server.signoffs import service as signoffs
from server.signoffs import signers as signoff_signers
from server.signoffs.models import (
    Decision,
    DocumentKind,
    DocumentStatus,
    DocumentVersion,
    SignableDocument,
    Signature,
)
from tests import factories as f

# --- the content hash --------------------------------------------------------------------

# Line breaks are written as LF here: the test turns them into CRLF with trailing spaces, which
# would make two breaks out of a CRLF already there.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=30
)
bodies = st.dictionaries(
    st.sampled_from(["background", "scopeIn", "scopeOut", "successCriteria"]), text, min_size=1
)


@given(body=bodies)
def test_hash_ignores_key_order_trailing_spaces_and_line_ends(body):
    reordered = dict(reversed(list(body.items())))
    spaced = {k: v.replace("\n", "  \r\n") + "   " for k, v in reordered.items()}
    decomposed = {k: unicodedata.normalize("NFD", v) for k, v in spaced.items()}
    expected = content.content_hash(7, 1, body)
    assert content.content_hash(7, 1, reordered) == expected
    assert content.content_hash(7, 1, spaced) == expected
    assert content.content_hash(7, 1, decomposed) == expected


@given(body=bodies, extra=st.text(min_size=1, max_size=5).filter(lambda s: s.strip()))
def test_hash_changes_with_any_content_change_and_with_the_version(body, extra):
    key = next(iter(body))
    changed = body | {key: body[key] + extra.strip()}
    assert content.content_hash(7, 1, changed) != content.content_hash(7, 1, body)
    assert content.content_hash(7, 2, body) != content.content_hash(7, 1, body)
    assert content.content_hash(8, 1, body) != content.content_hash(7, 1, body)


def test_diff_names_the_changed_sections_only():
    before = content.empty_charter() | {"background": "旧背景\n不变", "scopeIn": "A"}
    after = before | {"background": "新背景\n不变"}
    [change] = content.diff(DocumentKind.CHARTER, before, after)
    assert change.section.key == "background"
    assert change.removed == ["旧背景"] and change.added == ["新背景"]


# --- a project with three departments and their heads -------------------------------------


@dataclass
class Setup:
    pm: object
    project: Project
    heads: dict[str, object]
    departments: dict[str, object]


async def setup_project() -> Setup:
    market = await f.department("市场部")
    rnd = await f.department("研发部")
    prod = await f.department("生产部")
    pm = await f.user(name="王芳", dept=market)
    project = await f.project(pm, departments=[rnd, prod])
    heads = {}
    for name, dept in (("市场", market), ("研发", rnd), ("生产", prod)):
        head = await f.user(name=f"{name}负责人", dept=dept)
        await f.member(pm, project, head, Role.DEPARTMENT_HEAD, dept)
        heads[name] = head
    return Setup(pm, project, heads, {"市场": market, "研发": rnd, "生产": prod})


async def charter_in_signing(s: Setup) -> SignableDocument:
    document = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.CHARTER
    )
    await signoffs.request_signatures(f.actor(s.pm), document_id=document.id)
    return await SignableDocument.get(id=document.id)


async def current_hash(document: SignableDocument) -> str:
    document = await SignableDocument.get(id=document.id)
    version = await DocumentVersion.get(document_id=document.id, number=document.current_number)
    return version.content_hash


async def sign(head, document, decision=Decision.APPROVE, comment="", **kw):
    return await signoffs.sign_document(
        f.actor(head),
        signoffs.SignInput(
            document_id=document.id,
            content_hash=kw.pop("content_hash", None) or await current_hash(document),
            decision=decision,
            comment=comment,
            **kw,
        ),
    )


async def test_charter_is_prefilled_from_the_project(db):
    s = await setup_project()
    document = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.CHARTER
    )
    state = await signoff_queries.document_state(f.actor(s.pm), document)
    body = state.current.body
    assert body["goals"] == [{"goal": "上市首月销量 ≥ 20,000 件", "target": ""}]
    assert {m["name"] for m in body["coreTeam"]} >= {"王芳", "研发负责人"}
    assert state.document.status == DocumentStatus.DRAFT
    assert {d.name for d in state.missing} == {"市场部", "研发部", "生产部"}


async def test_every_head_approving_makes_it_signed_and_tells_pm_and_signers_once(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    requests = await Notice.filter(dedup_key__startswith="sign-request:").count()
    assert requests == 3
    for name in ("市场", "研发"):
        await sign(s.heads[name], document)
    state = await signoff_queries.document_state(
        f.actor(s.pm), await SignableDocument.get(id=document.id)
    )
    assert state.document.status == DocumentStatus.IN_SIGNING
    assert [d.name for d in state.missing] == ["生产部"]
    await sign(s.heads["生产"], document, comment="资源已落实")
    document = await SignableDocument.get(id=document.id)
    assert document.status == DocumentStatus.SIGNED and document.signed_at is not None
    outcome = await Notice.filter(dedup_key__startswith="sign-outcome:").values_list(
        "recipient_id", flat=True
    )
    assert sorted(outcome) == sorted([s.pm.id, *(h.id for h in s.heads.values())])
    entry = await AuditEntry.filter(action="document.sign").order_by("-id").first()
    assert entry.after["comment"] == "资源已落实"
    assert entry.after["contentHash"] == await current_hash(document)


async def test_a_stale_hash_is_a_conflict_naming_the_current_version_and_changes_nothing(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    old_hash = await current_hash(document)
    body = (await DocumentVersion.get(document_id=document.id, number=1)).body
    await signoffs.revise_document(
        f.actor(s.pm), document_id=document.id, body=body | {"scopeOut": "海外市场"}
    )
    await signoffs.request_signatures(f.actor(s.pm), document_id=document.id)
    with pytest.raises(Conflict) as refused:
        await sign(s.heads["研发"], document, content_hash=old_hash)
    assert refused.value.field == "contentHash"
    assert refused.value.params["number"] == 2
    assert await Signature.all().count() == 0


async def test_a_revision_not_yet_sent_is_still_a_conflict_for_an_old_page(db):
    """Issue 23, item 5: a head who opened version 1 signs after the PM revised it to a
    version 2 not yet sent: the answer is CONFLICT naming version 2, before anything else."""
    s = await setup_project()
    document = await charter_in_signing(s)
    old_hash = await current_hash(document)
    body = (await DocumentVersion.get(document_id=document.id, number=1)).body
    await signoffs.revise_document(
        f.actor(s.pm), document_id=document.id, body=body | {"scopeOut": "海外市场"}
    )
    for decision, comment in (("APPROVE", ""), ("REJECT", "")):  # even with a missing reason
        with pytest.raises(Conflict) as refused:
            await sign(
                s.heads["研发"], document, content_hash=old_hash, decision=decision, comment=comment
            )
        assert refused.value.params["number"] == 2
    assert await Signature.all().count() == 0


async def test_a_signature_never_counts_for_a_version_it_did_not_name(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    for head in s.heads.values():
        await sign(head, document)
    assert (await SignableDocument.get(id=document.id)).status == DocumentStatus.SIGNED
    body = (await DocumentVersion.get(document_id=document.id, number=1)).body
    await signoffs.revise_document(
        f.actor(s.pm), document_id=document.id, body=body | {"background": "市场变化"}
    )
    document = await SignableDocument.get(id=document.id)
    assert document.status == DocumentStatus.DRAFT and document.current_number == 2
    await signoffs.request_signatures(f.actor(s.pm), document_id=document.id)
    await sign(s.heads["研发"], document)
    state = await signoff_queries.document_state(
        f.actor(s.pm), await SignableDocument.get(id=document.id)
    )
    assert state.document.status == DocumentStatus.IN_SIGNING
    assert {d.name for d in state.missing} == {"市场部", "生产部"}
    assert {d.name for d in state.must_sign_again} == {"市场部", "生产部"}
    # The old signatures stay, against the version and hash they signed.
    assert [v.number for v in state.signatures].count(1) == 3
    old = await DocumentVersion.get(document_id=document.id, number=1)
    assert all(
        v.signature.content_hash == old.content_hash for v in state.signatures if v.number == 1
    )
    [change] = state.diff
    assert change.section.key == "background" and change.added == ["市场变化"]


async def test_a_version_reverted_to_older_content_has_its_own_hash(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    first = await DocumentVersion.get(document_id=document.id, number=1)
    await signoffs.revise_document(
        f.actor(s.pm), document_id=document.id, body=first.body | {"scopeOut": "x"}
    )
    await signoffs.request_signatures(f.actor(s.pm), document_id=document.id)
    await signoffs.revise_document(f.actor(s.pm), document_id=document.id, body=first.body)
    third = await DocumentVersion.get(document_id=document.id, number=3)
    assert third.body == first.body and third.content_hash != first.content_hash


async def test_rejection_makes_it_rejected_until_a_new_version(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    with pytest.raises(Invalid) as no_reason:
        await sign(s.heads["生产"], document, Decision.REJECT)
    assert no_reason.value.field == "comment"
    await sign(s.heads["生产"], document, Decision.REJECT, comment="产能不足")
    assert (await SignableDocument.get(id=document.id)).status == DocumentStatus.REJECTED
    with pytest.raises(Invalid) as refused:
        await sign(s.heads["研发"], document)
    assert "rejected" in refused.value.message
    assert await Notice.filter(dedup_key__startswith="sign-outcome:").count() == 2


async def test_refusals_change_nothing(db):
    s = await setup_project()
    document = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.CHARTER
    )
    with pytest.raises(Invalid, match="not been sent"):
        await sign(s.heads["研发"], document)
    document = await charter_in_signing(s)
    with pytest.raises(Forbidden) as not_a_head:
        await sign(s.pm, document)
    assert not_a_head.value.field == "departmentId"
    with pytest.raises(Forbidden):
        await sign(s.heads["研发"], document, department_id=s.departments["生产"].id)
    await sign(s.heads["研发"], document)
    with pytest.raises(Invalid, match="already signed"):
        await sign(s.heads["研发"], document)
    with pytest.raises(Forbidden):
        await signoffs.revise_document(
            f.actor(s.heads["研发"]), document_id=document.id, body={"background": "x"}
        )
    with pytest.raises(Invalid) as unknown:
        await signoffs.revise_document(
            f.actor(s.pm), document_id=document.id, body={"budget": "100万"}
        )
    assert unknown.value.field == "body"
    assert await Signature.all().count() == 1
    assert await DocumentVersion.filter(document_id=document.id).count() == 1


async def test_the_initiating_departments_head_may_edit_the_charter(db):
    s = await setup_project()
    document = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.CHARTER
    )
    await signoffs.revise_document(
        f.actor(s.heads["市场"]), document_id=document.id, body={"background": "由市场部发起"}
    )
    version = await DocumentVersion.get(document_id=document.id, number=1)
    assert version.body["background"] == "由市场部发起"


async def test_archived_project_refuses_signatures(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    await projects.archive_project(f.actor(s.pm), project_id=s.project.id, version=1)
    with pytest.raises(Forbidden, match="archived"):
        await sign(s.heads["研发"], document)
    assert await Signature.all().count() == 0


async def test_a_delegate_signs_for_the_department(db):
    s = await setup_project()
    deputy = await f.user(name="研发副经理", dept=s.departments["研发"])
    await f.member(s.pm, s.project, deputy, Role.MEMBER, s.departments["研发"])
    with pytest.raises(Forbidden):
        await signoff_signers.name_delegate(
            f.actor(s.heads["生产"]),
            project_id=s.project.id,
            department_id=s.departments["研发"].id,
            user_id=deputy.id,
        )
    await signoff_signers.name_delegate(
        f.actor(s.heads["研发"]),
        project_id=s.project.id,
        department_id=s.departments["研发"].id,
        user_id=deputy.id,
    )
    document = await charter_in_signing(s)
    await sign(deputy, document)
    signature = await Signature.get()
    assert signature.signer_id == deputy.id
    assert signature.department_id == s.departments["研发"].id


async def test_a_department_without_a_head_blocks_sending_for_signing(db):
    s = await setup_project()
    design = await f.department("设计部")
    await projects.update_project(
        f.actor(s.pm),
        project_id=s.project.id,
        version=1,
        data=projects.ProjectInput(
            department_ids=[d.id for d in s.departments.values()] + [design.id]
        ),
    )
    document = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.CHARTER
    )
    with pytest.raises(Invalid, match="no department head") as refused:
        await signoffs.request_signatures(f.actor(s.pm), document_id=document.id)
    assert refused.value.params["names"] == "设计部"
    assert (await SignableDocument.get(id=document.id)).status == DocumentStatus.DRAFT


async def test_adding_a_department_adds_it_to_the_required_signers(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    design = await f.department("设计部")
    await projects.update_project(
        f.actor(s.pm),
        project_id=s.project.id,
        version=1,
        data=projects.ProjectInput(
            department_ids=[d.id for d in s.departments.values()] + [design.id]
        ),
    )
    for head in s.heads.values():
        await sign(head, document)
    state = await signoff_queries.document_state(
        f.actor(s.pm), await SignableDocument.get(id=document.id)
    )
    assert state.document.status == DocumentStatus.IN_SIGNING
    assert [d.name for d in state.missing] == ["设计部"]


async def test_concurrent_signatures_all_count_and_it_is_signed_exactly_once(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    content_hash = await current_hash(document)
    await asyncio.gather(
        *(sign(head, document, content_hash=content_hash) for head in s.heads.values())
    )
    assert await Signature.filter(decision=Decision.APPROVE).count() == 3
    assert (await SignableDocument.get(id=document.id)).status == DocumentStatus.SIGNED
    pm_outcomes = await Notice.filter(
        dedup_key__startswith="sign-outcome:", recipient_id=s.pm.id
    ).count()
    assert pm_outcomes == 1


async def test_remind_queues_one_email_per_missing_head_once_a_day(db):
    s = await setup_project()
    document = await charter_in_signing(s)
    await sign(s.heads["研发"], document)
    assert await signoff_signers.remind_missing_signers(f.actor(s.pm), document_id=document.id) == 2
    await signoff_signers.remind_missing_signers(f.actor(s.pm), document_id=document.id)
    reminded = await Notice.filter(dedup_key__startswith="sign-remind:").values_list(
        "recipient_id", flat=True
    )
    assert sorted(reminded) == sorted([s.heads["市场"].id, s.heads["生产"].id])


async def test_confirmation_has_a_section_per_department(db):
    s = await setup_project()
    document = await signoff_queries.open_document(
        f.actor(s.pm), project_id=s.project.id, kind=DocumentKind.COLLABORATION_CONFIRMATION
    )
    rnd = s.departments["研发"]
    await signoffs.revise_document(
        f.actor(s.pm),
        document_id=document.id,
        body={
            "departments": [{"departmentId": rnd.id, "requirements": "样机3台", "resources": "2人"}]
        },
    )
    state = await signoff_queries.document_state(f.actor(s.pm), document)
    sections = {d["department"]: d for d in state.current.body["departments"]}
    assert set(sections) == {"市场部", "研发部", "生产部"}
    assert sections["研发部"]["requirements"] == "样机3台"
    with pytest.raises(Invalid) as refused:
        await signoffs.revise_document(
            f.actor(s.pm),
            document_id=document.id,
            body={"departments": [{"departmentId": 99999, "requirements": "x"}]},
        )
    assert refused.value.field == "departmentId"
