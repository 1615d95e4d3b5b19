from __future__ import annotations

from server.auth import Actor
from server.settings import Settings
from server.signoffs.integrity import alert_integrity_findings, verify_all_documents


async def verify_signatures(
    settings: Settings, project_code: str | None = None, *, scheduled: bool = False
) -> str:
    report = await verify_all_documents(Actor.system())
    await alert_integrity_findings(report.findings)
    return (
        f"verify-signatures: {report.documents} documents, {report.signatures} signatures, "
        f"{len(report.findings)} with an integrity failure"
    )
