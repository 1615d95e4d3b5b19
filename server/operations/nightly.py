"""The nightly backup: into XIETONG_BACKUP_DIR, keeping the newest XIETONG_BACKUP_KEEP."""

from __future__ import annotations

from server import clock, metrics
from server.operations.backup import BackupError, make_backup, nightly_name, prune
from server.settings import Settings


async def nightly_backup(settings: Settings) -> str:
    if settings.backup_dir is None:
        return "backup: off (XIETONG_BACKUP_DIR is not set)"
    target = settings.backup_dir / nightly_name(clock.now())
    try:
        manifest = await make_backup(settings, target)
    except BackupError:
        metrics.BACKUPS.labels("failed").inc()
        raise
    metrics.BACKUPS.labels("ok").inc()
    metrics.LAST_BACKUP.set(clock.now().timestamp())
    removed = prune(settings.backup_dir, settings.backup_keep)
    rows = sum(manifest.tables.values())
    return f"backup: {target.name}, {rows} rows; removed {len(removed)} older"
